import { BatchMeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import fc from 'fast-check';
import { main } from '../src/cli';
import { Clock, describeEmulatedTime, MAX_SPEED } from '../src/clock';
import { followEmulatorClock, startEmulator, type Emulator } from '../src';
import { clientFor, HOUR } from './helpers';

/** A real-time source that moves only when the test says so. */
function manualTime(start = Date.parse('2026-07-15T10:00:00Z')) {
  let t = start;
  return { source: () => t, pass: (ms: number) => void (t += ms) };
}

describe('accelerated emulated time', () => {
  it('runs speed times as fast as its time source, through set, advance and speed changes', () => {
    const real = manualTime();
    const clock = new Clock({ now: Date.parse('2026-07-15T10:05:00Z'), speed: 120, source: real.source });
    expect(clock.speed).toBe(120);
    real.pass(1000);
    expect(new Date(clock.now()).toISOString()).toBe('2026-07-15T10:07:00.000Z');
    real.pass(27_000);
    expect(new Date(clock.now()).toISOString()).toBe('2026-07-15T11:01:00.000Z');

    clock.advance(10 * 60_000);
    real.pass(500);
    expect(new Date(clock.now()).toISOString()).toBe('2026-07-15T11:12:00.000Z');

    clock.set(Date.parse('2026-07-31T23:00:00Z'));
    real.pass(30_000);
    expect(new Date(clock.now()).toISOString()).toBe('2026-08-01T00:00:00.000Z');

    clock.setSpeed(1);
    expect(new Date(clock.now()).toISOString()).toBe('2026-08-01T00:00:00.000Z');
    real.pass(30_000);
    expect(new Date(clock.now()).toISOString()).toBe('2026-08-01T00:00:30.000Z');
    expect(clock.generation).toBe(4);
  });

  it('runs with real time by default and refuses a speed that is not a positive number up to the maximum', () => {
    const real = manualTime();
    const clock = new Clock({ source: real.source });
    real.pass(1234);
    expect(clock.now()).toBe(real.source());
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, MAX_SPEED + 1]) {
      expect(() => new Clock({ speed: bad })).toThrow(/clock speed must be/);
      expect(() => clock.setSpeed(bad)).toThrow(/clock speed must be/);
    }
  });

  it('describes emulated time for a log line: its speed, or how far it is from real time', () => {
    const real = manualTime(Date.parse('2026-07-15T10:00:00Z'));
    expect(describeEmulatedTime(new Clock({ speed: 120, source: real.source }), real.source())).toBe(
      'emulated time 2026-07-15T10:00:00.000Z; emulated time runs 120x real time: an emulated hour every 30 s of real time',
    );
    expect(describeEmulatedTime(new Clock({ speed: 2, source: real.source }), real.source())).toMatch(/an emulated hour every 30 min of real time$/);
    expect(describeEmulatedTime(new Clock({ source: real.source }), real.source())).toBe('emulated time 2026-07-15T10:00:00.000Z: real time');
    expect(describeEmulatedTime(new Clock({ now: real.source() - 65 * 60_000, source: real.source }), real.source())).toBe('emulated time 2026-07-15T08:55:00.000Z: 65 minutes behind real time');
  });

  describe('an emulator started with a speed', () => {
    let emu: Emulator;
    const real = manualTime();
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${emu.endpoint}/_emulator${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    beforeAll(async () => {
      emu = await startEmulator({ now: Date.parse('2026-07-15T10:05:00Z'), speed: 120, timeSource: real.source, products: [{ productCode: 'prod-fast', dimensions: ['api_calls'] }] });
    });
    afterAll(() => emu.close());

    it('says its time, speed and generation at GET /_emulator/clock and takes a new speed at POST', async () => {
      expect((await admin('GET', '/clock')).body).toEqual({ now: Date.parse('2026-07-15T10:05:00Z'), iso: '2026-07-15T10:05:00.000Z', speed: 120, generation: 1 });
      real.pass(30_000);
      expect((await admin('GET', '/clock')).body).toMatchObject({ iso: '2026-07-15T11:05:00.000Z', speed: 120 });
      expect((await admin('POST', '/clock', { speed: 60 })).body).toMatchObject({ iso: '2026-07-15T11:05:00.000Z', speed: 60, generation: 2 });
      real.pass(1000);
      expect((await admin('GET', '/clock')).body).toMatchObject({ iso: '2026-07-15T11:06:00.000Z' });
      expect(await admin('POST', '/clock', { speed: 0 })).toEqual({ status: 400, body: { error: expect.stringMatching(/clock speed must be/) } });
      expect((await admin('POST', '/clock', { speed: 120 })).body).toMatchObject({ speed: 120 });
    });

    it("dates AWS's windows by the accelerated clock: an hour 25 emulated hours old is refused after 12.5 real minutes", async () => {
      const sub = await emu.subscribe({ productCode: 'prod-fast' });
      const start = emu.clock.now();
      const hour = Math.floor(start / HOUR) * HOUR;
      const record = (quantity: number) =>
        new BatchMeterUsageCommand({ ProductCode: undefined, UsageRecords: [{ Timestamp: new Date(hour), Dimension: 'api_calls', Quantity: quantity, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn }] });
      expect((await clientFor(emu).send(record(3))).Results?.[0]?.Status).toBe('Success');
      real.pass(25 * 30_000);
      const late = await clientFor(emu)
        .send(record(4))
        .then(
          () => 'accepted',
          (e: Error) => e.name,
        );
      expect(late).toBe('TimestampOutOfBoundsException');
    });
  });

  describe('followEmulatorClock', () => {
    it('follows an emulator in another process: each reading moved on at its speed, jumps followed, never a step back between them', async () => {
      const real = manualTime();
      const emu = await startEmulator({ now: Date.parse('2026-07-15T10:05:00Z'), speed: 120, timeSource: real.source });
      const followed = await followEmulatorClock(emu.endpoint, { source: real.source, syncIntervalMs: 3_600_000 });
      try {
        expect(followed.now()).toBe(emu.clock.now());
        expect(followed.speed()).toBe(120);
        real.pass(30_000);
        expect(new Date(followed.now()).toISOString()).toBe('2026-07-15T11:05:00.000Z');
        emu.clock.set(Date.parse('2026-07-15T09:00:00Z'));
        expect(new Date(followed.now()).toISOString()).toBe('2026-07-15T11:05:00.000Z');
        await followed.sync();
        expect(new Date(followed.now()).toISOString()).toBe('2026-07-15T09:00:00.000Z');
        emu.clock.setSpeed(1);
        await followed.sync();
        real.pass(1000);
        expect(new Date(followed.now()).toISOString()).toBe('2026-07-15T09:00:01.000Z');
      } finally {
        followed.close();
        await emu.close();
      }
    });

    it('rejects what is not an emulator and a sync interval below 10 ms', async () => {
      const emu = await startEmulator({});
      try {
        await expect(followEmulatorClock(`${emu.endpoint}/nowhere`)).rejects.toThrow(/answered 404/);
        await expect(followEmulatorClock(emu.endpoint, { syncIntervalMs: 5 })).rejects.toThrow(/syncIntervalMs/);
      } finally {
        await emu.close();
      }
    });

    // Invariant: right after a reading the follower says the emulator's time; between readings it moves at the
    // emulator's speed and never goes back; it goes back only after a jump on the emulator (a new generation).
    it('property: the follower equals the emulator after each reading and never steps back within a generation', async () => {
      const real = manualTime();
      const emu = await startEmulator({ now: Date.parse('2026-07-15T10:05:00Z'), timeSource: real.source });
      const followed = await followEmulatorClock(emu.endpoint, { source: real.source, syncIntervalMs: 3_600_000 });
      type Step = { kind: 'pass'; ms: number } | { kind: 'speed'; speed: number } | { kind: 'advance'; ms: number } | { kind: 'set'; offsetMs: number } | { kind: 'sync' };
      const step: fc.Arbitrary<Step> = fc.oneof(
        fc.record({ kind: fc.constant('pass' as const), ms: fc.integer({ min: 0, max: 60_000 }) }),
        fc.record({ kind: fc.constant('speed' as const), speed: fc.constantFrom(1, 2.5, 60, 120, 3600) }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3 * HOUR }) }),
        fc.record({ kind: fc.constant('set' as const), offsetMs: fc.integer({ min: -3 * HOUR, max: 3 * HOUR }) }),
        fc.record({ kind: fc.constant('sync' as const) }),
      );
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
            await followed.sync();
            let previous = followed.now();
            let jumped = false;
            for (const s of steps) {
              if (s.kind === 'pass') real.pass(s.ms);
              else if (s.kind === 'speed') emu.clock.setSpeed(s.speed);
              else if (s.kind === 'advance') emu.clock.advance(s.ms);
              else if (s.kind === 'set') emu.clock.set(emu.clock.now() + s.offsetMs);
              if (s.kind === 'speed' || s.kind === 'advance' || s.kind === 'set') jumped = true;
              if (s.kind === 'sync') {
                await followed.sync();
                expect(followed.now()).toBe(emu.clock.now());
              }
              const now = followed.now();
              if (!jumped || s.kind !== 'sync') expect(now).toBeGreaterThanOrEqual(previous);
              if (s.kind === 'sync') jumped = false;
              previous = now;
            }
          }),
          { numRuns: 60 },
        );
      } finally {
        followed.close();
        await emu.close();
      }
    });
  });

  it('CLI: --speed starts an accelerated emulator and says how fast; clock --speed changes it', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
    const emu = (await main(['node', 'meterkit-emulator', '--port', '0', '--quiet', '--speed', '120', '--now', '2026-07-15T10:05:00Z'], io)) as Emulator;
    try {
      expect(emu.clock.speed).toBe(120);
      expect(lines).toContainEqual(expect.stringMatching(/^emulated time runs 120x real time: an emulated hour every 30 s of real time; emulated time now 2026-07-15T10:0/));
      lines.length = 0;
      await main(['node', 'meterkit-emulator', 'clock', '--speed', '1', '--url', emu.endpoint], io);
      expect(JSON.parse(lines.join('\n'))).toMatchObject({ speed: 1 });
      expect(emu.clock.speed).toBe(1);
    } finally {
      await emu.close();
    }
  });
});
