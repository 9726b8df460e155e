import type { CustomerIdentity, MeteringEvents } from '../src';
import { drainAll } from './support/drain';
import { DIMENSIONS, startWorld, type World } from './support/world';

/** 5 licenses x 12 dimensions = 60 records of known quantities. */
async function recordSixty(world: World): Promise<Map<string, number>> {
  const expected = new Map<string, number>();
  for (let c = 0; c < 5; c++) {
    const customer = (await world.license()) as Extract<CustomerIdentity, { kind: 'license' }>;
    const meter = world.metering.meter(customer);
    DIMENSIONS.forEach((dimension, d) => {
      const quantity = 1 + c * 100 + d;
      meter.record(dimension, quantity);
      expected.set(`${customer.licenseArn}|${dimension}`, quantity);
    });
    await meter.commit();
  }
  world.setTime('2026-07-15T11:30:00Z');
  return expected;
}

function accepted(world: World): Map<string, number> {
  const totals = new Map<string, number>();
  for (const r of world.emu.inspect.records()) {
    const key = `${r.licenseArn}|${r.dimension}`;
    totals.set(key, (totals.get(key) ?? 0) + r.quantity);
  }
  return totals;
}

describe('retries end in exactly one accepted record per key', () => {
  let world: World;
  afterEach(() => world.close());

  it.each([
    ['throttling', { throttleRate: 0.5 }],
    ['AWS 5xx faults', { serverErrorRate: 0.5 }],
    ['unprocessed records', { unprocessedRate: 0.4 }],
    ['connection resets', { resetRate: 0.4 }],
    ['answers lost after the usage was counted', { lostAnswerRate: 0.5 }],
    ['all of them at once', { throttleRate: 0.2, serverErrorRate: 0.1, unprocessedRate: 0.2, resetRate: 0.1, lostAnswerRate: 0.3 }],
  ])('under %s', async (_name, faults) => {
    world = await startWorld({}, { seed: 7 });
    const expected = await recordSixty(world);
    world.emu.faults.set(faults);
    await drainAll(world);
    expect(accepted(world)).toEqual(expected);
    expect(world.emu.inspect.duplicates()).toEqual([]);
    const status = await world.metering.status();
    expect(status.counts).toMatchObject({ sent: 60, duplicate: 0, rejected: 0, expired: 0, pending: 0, sending: 0 });
  });

  it('answers a lost answer\'s resend with the same MeteringRecordId', async () => {
    world = await startWorld();
    const sent: MeteringEvents['sent'][] = [];
    world.metering.on('sent', (e) => sent.push(e));
    await world.metering.meter(await world.license()).record('api_calls', 3).commit();
    world.setTime('2026-07-15T11:30:00Z');
    world.emu.faults.failNext('BatchMeterUsage', 'lost-answer');
    await world.metering.flush();
    const [record] = world.emu.inspect.records();
    expect(world.emu.inspect.records()).toHaveLength(1);
    expect(sent.flatMap((e) => e.records.map((r) => r.meteringRecordId))).toEqual([record!.meteringRecordId]);
    expect(world.emu.inspect.calls('BatchMeterUsage')).toHaveLength(2);
  });

  it('pauses on a configuration error without blaming any record, and delivers once it is fixed', async () => {
    world = await startWorld();
    const errors: MeteringEvents['error'][] = [];
    world.metering.on('error', (e) => errors.push(e));
    await world.metering.meter(await world.legacyCustomer()).record('api_calls', 4).commit();
    world.setTime('2026-07-15T11:30:00Z');
    world.emu.faults.failNext('BatchMeterUsage', 'InvalidProductCodeException');
    const report = await world.metering.flush();
    expect(report).toMatchObject({ sent: 0, rejected: 0, released: 1 });
    expect(errors.map((e) => [e.error.code, e.error.awsException])).toEqual([['ERR_METERKIT_AWS_CONFIGURATION', 'InvalidProductCodeException']]);

    world.emu.clock.advance(60_000);
    expect(await world.metering.flush()).toMatchObject({ claimed: 0 });
    world.emu.clock.advance(5 * 60_000);
    expect(await world.metering.flush()).toMatchObject({ sent: 1 });
    expect(world.emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(4);
  });
});
