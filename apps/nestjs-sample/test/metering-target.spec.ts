import { acceleratedTimeOptions, meteringTarget } from '../src/config/metering-target';
import { configFromEnv, SAMPLE_PRODUCT } from '../src/config/sample-config';

describe('where the sample meters to', () => {
  it('starts a local emulator by default', async () => {
    const target = await meteringTarget(configFromEnv({}));
    try {
      expect(target.metering).toMatchObject({ products: [{ productCode: SAMPLE_PRODUCT }], store: 'memory', aws: { endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) } });
      const health = await fetch(`${target.metering.aws!.endpoint}/_emulator/health`);
      expect(health.status).toBe(200);
    } finally {
      await target.close();
    }
  });

  it('runs the emulator and the app clock following it faster with METERKIT_EMULATOR_SPEED, from METERKIT_CLOCK_OFFSET_MINUTES off real time', async () => {
    let real = Date.parse('2026-07-15T10:05:00Z');
    const target = await meteringTarget(configFromEnv({ METERKIT_EMULATOR_SPEED: '120', METERKIT_CLOCK_OFFSET_MINUTES: '-65', METERKIT_STORE: 'memory' }), { timeSource: () => real });
    try {
      const clock = target.metering.clock!;
      expect(new Date(clock()).toISOString()).toBe('2026-07-15T09:00:00.000Z');
      real += 30_000;
      expect(new Date(clock()).toISOString()).toBe('2026-07-15T10:00:00.000Z');
      const emulated = (await (await fetch(`${target.metering.aws!.endpoint}/_emulator/clock`)).json()) as { now: number; speed: number };
      expect(emulated).toMatchObject({ now: clock(), speed: 120 });
      expect(target.metering).toMatchObject({ flushIntervalMs: 1000, leaseMs: 3_600_000 });
      expect(target.emulatedTime!()).toBe('emulated time 2026-07-15T10:00:00.000Z; emulated time runs 120x real time: an emulated hour every 30 s of real time');
    } finally {
      await target.close();
    }
    expect(acceleratedTimeOptions(1)).toEqual({});
  });

  it('an explicit METERKIT_FLUSH_INTERVAL_MS wins over the accelerated flush', async () => {
    const target = await meteringTarget(configFromEnv({ METERKIT_EMULATOR_SPEED: '120', METERKIT_FLUSH_INTERVAL_MS: '5000' }));
    try {
      expect(target.metering).toMatchObject({ flushIntervalMs: 5000, leaseMs: 3_600_000 });
    } finally {
      await target.close();
    }
  });

  it('meters to AWS when METERKIT_TARGET=aws, with the configured settings, region and endpoint', async () => {
    const target = await meteringTarget(configFromEnv({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real123', METERKIT_AWS_REGION: 'eu-west-1' }));
    expect(target.metering).toEqual({
      products: [{ productCode: 'prod-real123', dimensions: ['api_calls', 'gb_processed'], identity: 'license' }],
      store: 'sqlite:./meterkit.db',
      aws: { region: 'eu-west-1' },
      durability: 'interval',
      lockMinutes: 10,
      mode: 'live',
    });
    expect(target.emulator).toBeUndefined();
    const endpoint = await meteringTarget(configFromEnv({ METERKIT_AWS_ENDPOINT: 'http://127.0.0.1:4599', METERKIT_PRODUCT_CODE: 'prod-real123', METERKIT_DURABILITY: 'sync' }));
    expect(endpoint.metering).toMatchObject({ aws: { endpoint: 'http://127.0.0.1:4599' }, durability: 'sync' });
    expect(endpoint.metering.aws).not.toHaveProperty('region');
  });
});
