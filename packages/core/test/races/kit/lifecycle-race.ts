import fc from 'fast-check';
import { isMeterkitError, type Metering } from '../../../src';
import { holds, same } from './checks';
import type { Interleaver } from './interleaver';
import { eventId, STATUS_EVENTS, toEvent, type EventKind, type EventSpec } from './lifecycle-events';
import { expectedCustomer, observed } from './lifecycle-model';
import { FaultPlan, InjectedStoreError, type StoreFault } from './scheduled-store';
import { CLOSED_HOUR, DIMENSION, EVENT_BASE, FINAL_USAGE_MINUTES, startRaceWorld, storedUnits, USAGE_TENANT, type RaceStoreHarness } from './race-world';

/** One top-level call of the race, made on instance `on` (modulo the number of instances). */
export type RaceOp =
  | { readonly op: 'event'; readonly event: EventSpec; readonly on: number }
  | { readonly op: 'register'; readonly who: 'license' | 'legacy'; readonly on: number }
  | { readonly op: 'link'; readonly on: number }
  | { readonly op: 'commit'; readonly units: number; readonly on: number }
  | { readonly op: 'flush'; readonly on: number }
  | { readonly op: 'persist'; readonly on: number };

export interface LifecycleScenario {
  readonly instances: number;
  readonly ops: readonly RaceOp[];
  /** Faults of the store calls in the order they are made (fail and lose-answer only); none by default. */
  readonly faults?: readonly StoreFault[];
}

export const LINKED_TENANT = 'tenant-linked';
/** Units committed and persisted in CLOSED_HOUR before the race: the flushes of the race send them. */
const SEED_COMMITS = [3, 4];

export function describeOp(op: RaceOp): string {
  switch (op.op) {
    case 'event':
      return `event ${eventId(op.event)}`;
    case 'register':
      return `register ${op.who}`;
    case 'commit':
      return `commit ${op.units}`;
    default:
      return op.op;
  }
}

export interface ScenarioShape {
  /** Event kinds to draw from. Default: the status-changing ones. */
  readonly kinds?: readonly EventKind[];
  /** Store calls that fail or lose their answer (default none). */
  readonly faults?: boolean;
}

/**
 * Scenarios: 2 or 3 instances; lifecycle events of both customers at distinct times, some delivered twice (to any
 * instance); registrations through ResolveCustomer, a tenant link, commits, flushes and persists.
 */
export function lifecycleScenarios(shape: ScenarioShape = {}): fc.Arbitrary<LifecycleScenario> {
  const kinds = shape.kinds ?? STATUS_EVENTS;
  const faults = shape.faults === true ? fc.array(fc.constantFrom<StoreFault>('ok', 'ok', 'fail', 'lose-answer'), { maxLength: 30 }) : fc.constant([]);
  const on = fc.nat({ max: 5 });
  const events = fc.uniqueArray(fc.record({ kind: fc.constantFrom(...kinds), second: fc.integer({ min: 1, max: 2_000 }) }), {
    selector: (event) => event.second,
    minLength: 1,
    maxLength: 6,
  });
  return fc
    .record({
      instances: fc.integer({ min: 2, max: 3 }),
      events: events.chain((specs) => fc.tuple(...specs.map((event) => fc.record({ event: fc.constant(event), on, again: fc.option(on, { freq: 3 }) })))),
      others: fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('register' as const), who: fc.constantFrom('license' as const, 'legacy' as const), on }),
          fc.record({ op: fc.constant('link' as const), on }),
          fc.record({ op: fc.constant('commit' as const), units: fc.integer({ min: 1, max: 9 }), on }),
          fc.record({ op: fc.constant('flush' as const), on }),
          fc.record({ op: fc.constant('persist' as const), on }),
        ),
        { maxLength: 6 },
      ),
      faults,
    })
    .map(({ instances, events: delivered, others, faults: plan }) => {
      const ops: RaceOp[] = [];
      for (const { event, on: first, again } of delivered) {
        ops.push({ op: 'event', event, on: first });
        if (again !== null) ops.push({ op: 'event', event, on: again });
      }
      return { instances, ops: [...ops, ...others], ...(plan.length === 0 ? {} : { faults: plan }) };
    });
}

interface Outcome {
  readonly op: RaceOp;
  readonly result: PromiseSettledResult<unknown>;
}

/**
 * Runs one scenario: every op starts when the scheduler picks it, every store call and AWS call of every instance
 * is a scheduled task. Then checks, on the backing store:
 * - each customer's status, last event time and final-usage deadline equal the reference model (the events applied
 *   one by one in event-time order; deliveries refused with a MeterkitError are delivered again afterwards, as
 *   EventBridge does);
 * - a tenant link that succeeded is kept; registrations and links never undo a lifecycle change;
 * - the usage customer's stored units equal the units committed (nothing lost, nothing doubled);
 * - no record reached the emulator twice; what it accepted equals the units the store marks sent; after a
 *   successful flush the closed hour is fully sent.
 */
export async function runLifecycleRace(
  harness: RaceStoreHarness,
  scenario: LifecycleScenario,
  scheduler: Interleaver,
  /** Start each op once the one before has settled (delivery order still any): the outcome must not change. */
  oneAtATime = false,
): Promise<void> {
  const faulty = (scenario.faults ?? []).length > 0;
  const world = await startRaceWorld(harness, { instances: scenario.instances, scheduler, seedCommits: SEED_COMMITS, plan: new FaultPlan(scenario.faults) });
  try {
    const { emu, instances, targets } = world;
    const instance = (on: number): Metering => instances[on % instances.length]!;
    let committed = world.seededUnits;
    const tokens = new Map<RaceOp, string>();
    for (const op of scenario.ops) {
      if (op.op === 'register') {
        tokens.set(op, emu.issueToken(op.who === 'license' ? targets.licenseArn : targets.customerIdentifier));
      }
    }
    const perform = async (op: RaceOp): Promise<unknown> => {
      const m = instance(op.on);
      switch (op.op) {
        case 'event':
          return m.applyLifecycleEvent(toEvent(op.event, targets));
        case 'register':
          return m.resolveRegistration(tokens.get(op));
        case 'link':
          return m.linkTenant(world.license.key, LINKED_TENANT);
        case 'commit': {
          const meter = await m.meterFor(USAGE_TENANT);
          meter.record(DIMENSION, op.units);
          const done = meter.commit();
          committed += op.units;
          return done;
        }
        case 'flush':
          return m.flush();
        case 'persist':
          return m.persist();
      }
    };
    let results: PromiseSettledResult<unknown>[];
    if (oneAtATime) {
      results = [];
      for (const op of scenario.ops) results.push(...(await scheduler.waitFor(Promise.allSettled([perform(op)]))));
    } else {
      const started = scenario.ops.map((op, i) => scheduler.schedule(Promise.resolve(), `op${i} ${describeOp(op)}`).then(() => perform(op)));
      results = await scheduler.waitFor(Promise.allSettled(started));
    }
    const outcomes: Outcome[] = scenario.ops.map((op, i) => ({ op, result: results[i]! }));
    // Nothing fails but with a MeterkitError (a refused conflict, say); a store that failed is ERR_METERKIT_STORE
    // carrying the driver's error.
    for (const { op, result } of outcomes) {
      holds(result.status === 'fulfilled' || isMeterkitError(result.reason), `${describeOp(op)} failed with an untyped error`, {
        error: result.status === 'rejected' ? String(result.reason) : undefined,
      });
      if (result.status === 'rejected' && result.reason instanceof Error && result.reason.cause instanceof InjectedStoreError) {
        holds(isMeterkitError(result.reason, 'ERR_METERKIT_STORE'), `${describeOp(op)} reports a failed store as ERR_METERKIT_STORE`, {
          error: String(result.reason),
        });
      }
    }
    // The store recovers; EventBridge delivers a refused event again.
    await world.plan.heal();
    const refused = outcomes.filter((o) => o.op.op === 'event' && o.result.status === 'rejected');
    for (const { op } of refused) {
      if (op.op === 'event') await scheduler.waitFor(instance(op.on).applyLifecycleEvent(toEvent(op.event, targets)));
    }
    // close() waits for the final-usage flushes lifecycle events started, and persists what is in memory.
    const closed = await scheduler.waitFor(Promise.allSettled(instances.map((m) => m.close())));
    holds(closed.every((c) => c.status === 'fulfilled'), 'every instance closes', { closed: closed.map((c) => c.status) });

    const events = scenario.ops.flatMap((op) => (op.op === 'event' ? [op.event] : []));
    const timeOf = (spec: EventSpec) => EVENT_BASE + spec.second * 1000;
    const finalUsageMs = FINAL_USAGE_MINUTES * 60_000;
    const license = await world.observer.getCustomer(world.license.key);
    const legacy = await world.observer.getCustomer(world.legacy.key);
    const modelOf = (legacyCustomer: boolean) =>
      observed(
        expectedCustomer(
          legacyCustomer ? { status: 'registered' } : { status: 'active', lastEventAt: EVENT_BASE },
          events,
          legacyCustomer,
          timeOf,
          finalUsageMs,
        ),
      );
    const ops = scenario.ops.map(describeOp);
    same(observed(license), modelOf(false), 'the licensed customer equals the events applied in event-time order', { ops });
    same(observed(legacy), modelOf(true), 'the legacy customer equals the events applied in event-time order', { ops });
    const linked = outcomes.some((o) => o.op.op === 'link' && o.result.status === 'fulfilled');
    // A link refused after its write applied (answer lost) may or may not be there.
    const mayBeLinked = outcomes.some((o) => o.op.op === 'link');
    if (linked || !mayBeLinked) same(license?.tenantId, linked ? LINKED_TENANT : undefined, 'a successful linkTenant() is kept', { ops });
    else holds(license?.tenantId === undefined || license.tenantId === LINKED_TENANT, 'a refused linkTenant() links nothing else', { tenantId: license?.tenantId });

    const stored = await storedUnits(world.observer, world.usage.key);
    same(stored, committed, 'stored units equal committed units', { ops });
    // With store faults a settle may not have been written yet: AWS's side is checked in the fault-free runs.
    if (faulty) return;
    same(emu.inspect.duplicates(), [], 'no record is sent twice', { ops });
    const accepted = emu.inspect.records().filter((r) => r.licenseArn === world.usage.subscription.licenseArn);
    const keys = accepted.map((r) => `${r.dimension}@${r.hour}`);
    same(new Set(keys).size, keys.length, 'each record is accepted once', { keys });
    const sent = await world.observer.listRecords({ customerKey: world.usage.key, states: ['sent'] });
    same(
      accepted.reduce((sum, r) => sum + r.quantity, 0),
      sent.reduce((sum, r) => sum + (r.frozen?.quantity ?? r.quantity), 0),
      'the units AWS accepted equal the units the store marks sent',
      { ops },
    );
    if (outcomes.some((o) => o.op.op === 'flush' && o.result.status === 'fulfilled')) {
      const unsent = await world.observer.listRecords({ customerKey: world.usage.key, hourFrom: CLOSED_HOUR, hourTo: CLOSED_HOUR + 1, states: ['open', 'pending', 'sending'] });
      same(unsent.map((r) => r.id), [], 'after a successful flush the closed hour is sent', { ops });
    }
  } finally {
    await world.close();
  }
}
