import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMeterkitError, type Metering, type MeteringOptions } from '../../../src';
import { holds, InvariantError, same } from './checks';
import type { Interleaver } from './interleaver';
import { DIMENSION, startRaceWorld, storedUnits, USAGE_TENANT, type RaceStoreHarness, type RaceWorld } from './race-world';
import { FaultPlan, type StoreFault } from './scheduled-store';

/** A request (meterFor + record + commit, durability 'sync'), a status() call, or background work. */
export type FaultOp =
  | { readonly op: 'request'; readonly units: number; readonly on: number }
  | { readonly op: 'status'; readonly on: number }
  | { readonly op: 'persist'; readonly on: number }
  | { readonly op: 'flush'; readonly on: number };

export interface FaultScenario {
  readonly instances: number;
  /** The fault of each store call, in the order calls are made; later calls succeed. */
  readonly faults: readonly StoreFault[];
  readonly ops: readonly FaultOp[];
}

/** The engine's bound on a request-path store call, and the options that set it. */
export interface RequestBound {
  readonly ms: number;
  readonly options: Partial<MeteringOptions>;
}

export function describeFaultOp(op: FaultOp): string {
  return op.op === 'request' ? `request ${op.units}` : op.op;
}

export function faultScenarios(): fc.Arbitrary<FaultScenario> {
  const on = fc.nat({ max: 3 });
  const fault = fc.oneof(
    { weight: 5, arbitrary: fc.constant('ok' as const) },
    { weight: 2, arbitrary: fc.constant('fail' as const) },
    { weight: 2, arbitrary: fc.constant('lose-answer' as const) },
    { weight: 2, arbitrary: fc.constant('hang' as const) },
  );
  return fc.record({
    instances: fc.integer({ min: 1, max: 2 }),
    faults: fc.array(fault, { maxLength: 24 }),
    ops: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.record({ op: fc.constant('request' as const), units: fc.integer({ min: 1, max: 9 }), on }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('status' as const), on }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('persist' as const), on }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const), on }) },
      ),
      { minLength: 1, maxLength: 6 },
    ),
  });
}

function tracked<T>(promise: Promise<T>): { readonly promise: Promise<T>; settled: () => boolean } {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { promise, settled: () => done };
}

/**
 * Lets the engine's bound expire: drains every scheduled task, moves the engine clock past the bound and lets a
 * timer of that length fire (the engine's own timer, armed earlier, fires first), a few times over.
 */
async function pastTheBound(world: RaceWorld, scheduler: Interleaver, bound: RequestBound, done: () => boolean): Promise<void> {
  for (let round = 0; round < 4 && !done(); round++) {
    await scheduler.waitIdle();
    world.emu.clock.advance(bound.ms + 1);
    await sleep(bound.ms);
  }
  await scheduler.waitIdle();
}

/**
 * Runs one fault scenario, then checks:
 * - every request-path call (meterFor + commit with durability 'sync', status()) settles while hung store calls are
 *   still hung, once the scheduler has drained everything else and the engine clock is past the bound;
 * - request-path calls reject only with a MeterkitError, and status() never rejects;
 * - once the store recovers (hung calls applied, no more faults), the stored units equal the units committed.
 */
export async function runFaultRace(harness: RaceStoreHarness, scenario: FaultScenario, scheduler: Interleaver, bound: RequestBound): Promise<void> {
  const plan = new FaultPlan(scenario.faults);
  const world = await startRaceWorld(harness, {
    instances: scenario.instances,
    scheduler,
    plan,
    seedCommits: [2],
    options: { durability: 'sync', ...bound.options },
  });
  try {
    const instance = (on: number): Metering => world.instances[on % world.instances.length]!;
    let committed = world.seededUnits;
    const perform = async (op: FaultOp): Promise<unknown> => {
      const m = instance(op.on);
      switch (op.op) {
        case 'request': {
          const meter = await m.meterFor(USAGE_TENANT);
          meter.record(DIMENSION, op.units);
          const done = meter.commit();
          committed += op.units;
          return done;
        }
        case 'status':
          return m.status();
        case 'persist':
          return m.persist();
        case 'flush':
          return m.flush();
      }
    };
    const started = scenario.ops.map((op, i) => tracked(scheduler.schedule(Promise.resolve(), `op${i} ${describeFaultOp(op)}`).then(() => perform(op))));
    const requestPath = started.filter((_, i) => scenario.ops[i]!.op === 'request' || scenario.ops[i]!.op === 'status');
    await pastTheBound(world, scheduler, bound, () => requestPath.every((call) => call.settled()));
    const pending = scenario.ops.filter((op, i) => (op.op === 'request' || op.op === 'status') && !started[i]!.settled()).map(describeFaultOp);
    if (pending.length > 0) {
      throw new InvariantError('every request-path call settles while the store hangs', {
        pending,
        hungStoreCalls: plan.hungCalls,
        boundMs: bound.ms,
        engineClockMovedMs: 'past the bound, 4 times',
      });
    }
    await plan.heal();
    const results = await scheduler.waitFor(Promise.allSettled(started.map((call) => call.promise)));
    scenario.ops.forEach((op, i) => {
      const result = results[i]!;
      if (op.op === 'status') holds(result.status === 'fulfilled', 'status() never rejects', { error: String((result as PromiseRejectedResult).reason) });
      if (op.op === 'request' && result.status === 'rejected') {
        holds(isMeterkitError(result.reason), 'a request fails only with a MeterkitError', { error: String(result.reason) });
      }
    });
    for (const m of world.instances) await scheduler.waitFor(m.persist());
    const closed = await scheduler.waitFor(Promise.allSettled(world.instances.map((m) => m.close())));
    holds(closed.every((c) => c.status === 'fulfilled'), 'every instance closes once the store recovered', { closed: closed.map((c) => c.status) });
    same(await storedUnits(world.observer, world.usage.key), committed, 'stored units equal committed units once the store recovers', {
      ops: scenario.ops.map(describeFaultOp),
      calls: plan.calls.filter((c) => c.fault !== 'ok'),
    });
  } finally {
    await world.close();
  }
}
