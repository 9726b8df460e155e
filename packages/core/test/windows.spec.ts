import type { MeteringEvents } from '../src';
import { at, startWorld, type World } from './support/world';

describe('AWS submission windows', () => {
  let world: World;
  afterEach(() => world.close());

  async function recordAt(iso: string, quantity = 5): Promise<MeteringEvents['expired'][]> {
    world.setTime(iso);
    await world.metering.meter(await world.license()).record('api_calls', quantity).commit();
    await world.metering.persist();
    const expired: MeteringEvents['expired'][] = [];
    world.metering.on('expired', (e) => expired.push(e));
    return expired;
  }

  it('sends an hour up to the last moment of its 24 hours', async () => {
    world = await startWorld();
    await recordAt('2026-07-15T10:20:00Z');
    world.setTime('2026-07-16T09:59:00Z');
    expect(await world.metering.flush()).toMatchObject({ sent: 1, expired: 0 });
  });

  it('ends usage older than 24 hours in the expired state with an event, and never sends or retries it', async () => {
    world = await startWorld();
    const expired = await recordAt('2026-07-15T10:20:00Z');
    world.setTime('2026-07-16T10:00:00Z');
    expect(await world.metering.flush()).toMatchObject({ expired: 1, calls: 0 });
    expect(expired).toHaveLength(1);
    expect(expired[0]!.deadline).toBe(at('2026-07-16T10:00:00Z'));
    expect(expired[0]!.record).toMatchObject({ dimension: 'api_calls', state: 'expired', frozen: { quantity: 5 } });
    world.emu.clock.advance(3_600_000);
    expect(await world.metering.flush()).toMatchObject({ claimed: 0, calls: 0 });
    expect(world.emu.inspect.calls('BatchMeterUsage')).toEqual([]);
    expect((await world.metering.status()).counts.expired).toBe(1);
  });

  it('cuts previous-month hours off at 06:00 UTC on the 1st though they are younger than 24 hours', async () => {
    world = await startWorld();
    const expired = await recordAt('2026-07-31T23:30:00Z');
    world.setTime('2026-08-01T06:00:00Z');
    expect(await world.metering.flush()).toMatchObject({ expired: 1, sent: 0 });
    expect(expired[0]!.deadline).toBe(at('2026-08-01T06:00:00Z'));
  });

  it('sends previous-month hours before the cutoff even when the lock period is long', async () => {
    world = await startWorld({ lockMinutes: 300 });
    await recordAt('2026-07-31T23:30:00Z');
    world.setTime('2026-08-01T02:59:00Z');
    expect(await world.metering.flush()).toMatchObject({ claimed: 0 });
    world.setTime('2026-08-01T03:00:00Z');
    expect(await world.metering.flush()).toMatchObject({ sent: 1 });
    expect(world.emu.inspect.records()[0]!.timestamp).toBe(at('2026-07-31T23:00:00Z'));
  });

  it('isolates a record AWS finds out of bounds and marks only it expired', async () => {
    world = await startWorld({}, { windows: { batchMeterUsageMs: 6 * 3_600_000 } });
    const expired = await recordAt('2026-07-15T02:20:00Z', 1);
    world.setTime('2026-07-15T10:20:00Z');
    await world.metering.meter(await world.license()).record('api_calls', 2).commit();
    world.setTime('2026-07-15T11:30:00Z');
    const report = await world.metering.flush();
    expect(report).toMatchObject({ sent: 1, expired: 1 });
    expect(expired.map((e) => e.record.reason)).toEqual(['TimestampOutOfBoundsException']);
    expect(world.emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
  });
});
