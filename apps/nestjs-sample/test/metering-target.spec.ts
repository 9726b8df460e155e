import { acceleratedTimeOptions, meteringTarget, SAMPLE_PRODUCT } from '../src/config/metering-target';

describe('where the sample meters to', () => {
  it('starts a local emulator by default', async () => {
    const target = await meteringTarget({});
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
    const target = await meteringTarget({ METERKIT_EMULATOR_SPEED: '120', METERKIT_CLOCK_OFFSET_MINUTES: '-65', METERKIT_STORE: 'memory' }, undefined, { timeSource: () => real });
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
    await expect(meteringTarget({ METERKIT_EMULATOR_SPEED: '0' })).rejects.toThrow(/METERKIT_EMULATOR_SPEED must be a number above 0/);
    await expect(meteringTarget({ METERKIT_CLOCK_OFFSET_MINUTES: '1.5' })).rejects.toThrow(/METERKIT_CLOCK_OFFSET_MINUTES must be a whole number/);
  });

  it('refuses accelerated or shifted time against AWS', async () => {
    const aws = { METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real123' };
    await expect(meteringTarget({ ...aws, METERKIT_EMULATOR_SPEED: '120' })).rejects.toThrow(/apply to the local emulator only/);
    await expect(meteringTarget({ ...aws, METERKIT_CLOCK_OFFSET_MINUTES: '-60' })).rejects.toThrow(/apply to the local emulator only/);
  });

  it('meters to AWS when METERKIT_TARGET=aws, and needs the product code for it', async () => {
    await expect(meteringTarget({ METERKIT_TARGET: 'aws' })).rejects.toThrow('METERKIT_PRODUCT_CODE');
    const target = await meteringTarget({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real123', AWS_REGION: 'eu-west-1' });
    expect(target.metering).toEqual({ products: [{ productCode: 'prod-real123', dimensions: ['api_calls', 'gb_processed'] }], store: 'sqlite:./meterkit.db', aws: { region: 'eu-west-1' } });
  });
});
