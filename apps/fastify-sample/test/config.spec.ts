import { acceleratedTimeOptions, configFromEnv } from '../src/config';

describe('configuration from the environment', () => {
  it('meters to a local emulator by default', () => {
    expect(configFromEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      productCode: 'prod-sample123',
      dimensions: ['api_calls', 'gb_processed'],
      store: 'sqlite:./meterkit.db',
      appDb: './app.db',
      target: 'emulator',
      emulatorPort: 4599,
      awsRegion: undefined,
      mode: 'live',
      eventsSecret: undefined,
      emulatorSpeed: 1,
      clockOffsetMinutes: 0,
    });
    expect(acceleratedTimeOptions(1)).toEqual({});
  });

  it('reads accelerated time and a clock offset for the emulator, and refuses them against AWS', () => {
    expect(configFromEnv({ METERKIT_EMULATOR_SPEED: '120', METERKIT_CLOCK_OFFSET_MINUTES: '-1440' })).toMatchObject({ emulatorSpeed: 120, clockOffsetMinutes: -1440 });
    expect(acceleratedTimeOptions(120)).toEqual({ flushIntervalMs: 1000, leaseMs: 3_600_000 });
    expect(acceleratedTimeOptions(10)).toEqual({ flushIntervalMs: 6000, leaseMs: 3_000_000 });
    for (const bad of ['0', '-2', 'fast', '36001']) expect(() => configFromEnv({ METERKIT_EMULATOR_SPEED: bad })).toThrow(/METERKIT_EMULATOR_SPEED must be a number above 0/);
    for (const bad of ['1.5', 'soon', '600000']) expect(() => configFromEnv({ METERKIT_CLOCK_OFFSET_MINUTES: bad })).toThrow(/METERKIT_CLOCK_OFFSET_MINUTES must be a whole number/);
    const aws = { METERKIT_TARGET: 'aws', MARKETPLACE_PRODUCT_CODE: 'prod-real' };
    expect(() => configFromEnv({ ...aws, METERKIT_EMULATOR_SPEED: '120' })).toThrow(/apply to the local emulator only/);
    expect(() => configFromEnv({ ...aws, METERKIT_CLOCK_OFFSET_MINUTES: '-60' })).toThrow(/apply to the local emulator only/);
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
