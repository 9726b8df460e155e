import { acceleratedTimeOptions, readEnv } from '../src/config';

describe('express-sample: configuration from the environment', () => {
  it('meters to a local emulator on real time by default', () => {
    expect(readEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      productCode: 'prod-sample-api',
      contractProductCode: 'prod-sample-team',
      store: 'sqlite:./meterkit.db',
      appDb: './app.db',
      emulatorPort: 4599,
      emulatorSpeed: 1,
      clockOffsetMinutes: 0,
    });
    expect(acceleratedTimeOptions(1)).toEqual({});
  });

  it('sells the contract product under METERKIT_CONTRACT_PRODUCT_CODE; against AWS only when it is set', () => {
    expect(readEnv({ METERKIT_CONTRACT_PRODUCT_CODE: 'prod-team-x' }).contractProductCode).toBe('prod-team-x');
    expect(readEnv({ METERKIT_AWS_REGION: 'us-east-1' }).contractProductCode).toBeUndefined();
    expect(readEnv({ METERKIT_AWS_REGION: 'us-east-1', METERKIT_CONTRACT_PRODUCT_CODE: 'prod-team-x' }).contractProductCode).toBe('prod-team-x');
  });

  it('reads accelerated time and a clock offset for the emulator', () => {
    expect(readEnv({ METERKIT_EMULATOR_SPEED: '120', METERKIT_CLOCK_OFFSET_MINUTES: '-65' })).toMatchObject({ emulatorSpeed: 120, clockOffsetMinutes: -65 });
    expect(readEnv({ METERKIT_EMULATOR_SPEED: '2.5' }).emulatorSpeed).toBe(2.5);
  });

  it('flushes every emulated minute (at most once a real second) and keeps leases 5 emulated minutes or more with accelerated time', () => {
    expect(acceleratedTimeOptions(120)).toEqual({ flushIntervalMs: 1000, leaseMs: 3_600_000 });
    expect(acceleratedTimeOptions(10)).toEqual({ flushIntervalMs: 6000, leaseMs: 3_000_000 });
  });

  it('refuses a bad speed or offset, and either one against AWS', () => {
    for (const bad of ['0', '-2', 'fast', '36001']) expect(() => readEnv({ METERKIT_EMULATOR_SPEED: bad })).toThrow(/METERKIT_EMULATOR_SPEED must be a number above 0 and at most 36000/);
    for (const bad of ['1.5', 'an hour', '600000']) expect(() => readEnv({ METERKIT_CLOCK_OFFSET_MINUTES: bad })).toThrow(/METERKIT_CLOCK_OFFSET_MINUTES must be a whole number of minutes/);
    expect(() => readEnv({ METERKIT_AWS_REGION: 'us-east-1', METERKIT_EMULATOR_SPEED: '120' })).toThrow(/apply to the local emulator only/);
    expect(() => readEnv({ METERKIT_AWS_REGION: 'us-east-1', METERKIT_CLOCK_OFFSET_MINUTES: '-65' })).toThrow(/apply to the local emulator only/);
    expect(readEnv({ METERKIT_AWS_REGION: 'us-east-1', METERKIT_EMULATOR_SPEED: '1' })).toMatchObject({ awsRegion: 'us-east-1', emulatorSpeed: 1 });
  });
});
