import { configFromEnv } from '../src/config';

describe('configuration from the environment', () => {
  it('meters to a local emulator by default', () => {
    expect(configFromEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      productCode: 'prod-sample123',
      dimensions: ['api_calls', 'gb_processed'],
      store: 'sqlite:./meterkit.db',
      target: 'emulator',
      emulatorPort: 4599,
      awsRegion: undefined,
      mode: 'live',
      eventsSecret: undefined,
    });
  });

  it('meters to AWS when configured, and needs the product code then', () => {
    expect(configFromEnv({ METERKIT_TARGET: 'aws', MARKETPLACE_PRODUCT_CODE: 'prod-real', AWS_REGION: 'us-east-1', PORT: '8080' })).toMatchObject({
      target: 'aws',
      productCode: 'prod-real',
      awsRegion: 'us-east-1',
      port: 8080,
    });
    expect(() => configFromEnv({ METERKIT_TARGET: 'aws' })).toThrow(/MARKETPLACE_PRODUCT_CODE/);
    expect(() => configFromEnv({ METERKIT_TARGET: 'cloud' })).toThrow(/METERKIT_TARGET/);
    expect(() => configFromEnv({ PORT: 'http' })).toThrow(/PORT/);
  });
});
