import { createMetering, parseEventBridgeEvent, type CustomerRecord, type LifecycleEvent, type Metering } from '../../../src';
import { licenseEvent } from '../../support/license-event';
import fc from 'fast-check';
import { same } from './checks';
import type { Interleaver } from './interleaver';
import { engineOptions, LICENSED, startRaceWorld, type RaceStoreHarness } from './race-world';

/** One top-level call on a license the store does not know yet, made on instance `on` (modulo the instances). */
export interface FirstContactOp {
  readonly call: 'updated' | 'deprovisioned' | 'register';
  readonly on: number;
}

export interface FirstContactScenario {
  readonly instances: number;
  /** `updated` (older) and `deprovisioned` (newer) may each appear twice: a redelivery. */
  readonly ops: readonly FirstContactOp[];
}

/**
 * Scenarios: 1 to 3 instances; License Updated (older), License Deprovisioned (newer), a redelivery of one of them
 * and a registration, each on any instance.
 */
export function firstContactScenarios(): fc.Arbitrary<FirstContactScenario> {
  const on = fc.nat({ max: 5 });
  return fc
    .record({
      instances: fc.integer({ min: 1, max: 3 }),
      updated: on,
      deprovisioned: on,
      redelivery: fc.record({ call: fc.constantFrom<'updated' | 'deprovisioned'>('updated', 'deprovisioned'), on }),
      registration: on,
    })
    .map(({ instances, updated, deprovisioned, redelivery, registration }) => ({
      instances,
      ops: [
        { call: 'updated' as const, on: updated },
        { call: 'deprovisioned' as const, on: deprovisioned },
        redelivery,
        { call: 'register' as const, on: registration },
      ],
    }));
}

/**
 * What lifecycle events and registration decide. An event older than the state is ignored whole, so the side fields
 * of a reordered older event (agreementStatus, its remembered id) depend on arrival order: they are left out.
 */
function projection(customer: CustomerRecord | undefined): unknown {
  if (customer === undefined) return undefined;
  return {
    identity: customer.identity,
    status: customer.status,
    agreementId: customer.agreementId,
    finalUsageDeadline: customer.finalUsageDeadline,
    lastEventAt: customer.lastEventAt,
    region: customer.region,
  };
}

/**
 * Runs one scenario on a license subscription the store has no record of, so the first writes create the customer:
 * EventBridge events (parsed as the receiver parses them) and the registration race through the instances, every
 * store and AWS call a scheduled task. Every call succeeds, and every instance then reads the customer as a reference
 * engine (in memory) leaves it after the registration and then the events one by one in event-time order: identity,
 * status, agreement, final-usage deadline, last event time and region.
 */
export async function runFirstContactRace(harness: RaceStoreHarness, scenario: FirstContactScenario, scheduler: Interleaver): Promise<void> {
  const world = await startRaceWorld(harness, { instances: scenario.instances, scheduler });
  const reference = createMetering(engineOptions(world.emu, 'memory', {}));
  try {
    const { emu, instances } = world;
    const subscription = await emu.subscribe({ productCode: LICENSED });
    const now = emu.clock.now();
    const events: Record<'updated' | 'deprovisioned', LifecycleEvent> = {
      updated: parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer', 'updated', now - 120_000, subscription)),
      deprovisioned: parseEventBridgeEvent(licenseEvent('License Deprovisioned - Manufacturer', 'deprovisioned', now - 60_000, subscription)),
    };
    const key = `license:${subscription.licenseArn}`;

    if (scenario.ops.some((op) => op.call === 'register')) await reference.resolveRegistration(subscription.token);
    const delivered = new Set(scenario.ops.flatMap((op) => (op.call === 'register' ? [] : [events[op.call]])));
    for (const event of [...delivered].sort((a, b) => a.time - b.time)) await reference.applyLifecycleEvent(event);
    const expected = projection(await reference.getCustomer(key));

    const instance = (on: number): Metering => instances[on % instances.length]!;
    const perform = (op: FirstContactOp): Promise<unknown> =>
      op.call === 'register' ? instance(op.on).resolveRegistration(subscription.token) : instance(op.on).applyLifecycleEvent(events[op.call]);
    const started = scenario.ops.map((op, i) => scheduler.schedule(Promise.resolve(), `op${i} ${op.call}`).then(() => perform(op)));
    await scheduler.waitFor(Promise.all(started));

    const ops = scenario.ops.map((op) => `${op.call} on i${op.on % instances.length}`);
    for (const [i, metering] of instances.entries()) {
      const read = metering.getCustomer(key);
      same(projection(await scheduler.waitFor(read)), expected, `instance i${i} reads the customer the events and registration applied in order leave`, { ops });
    }
  } finally {
    await reference.close();
    await world.close();
  }
}
