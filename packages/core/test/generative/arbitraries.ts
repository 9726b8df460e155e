import fc from 'fast-check';
import { METERED_DIMENSIONS, SEND_PHASES, TOTAL_DIMENSIONS, type EngineHarness, type Slot } from '../support/engine-harness';
import type { Model } from './model';
import { C, type ClockMove, type FaultSpec, type LifecycleKind, type MeterStep } from './commands';

/** What a run exercises; each property picks its own. */
export interface Scenario {
  readonly slots: readonly Slot[];
  readonly stores: ReadonlyArray<'memory' | 'sqlite'>;
  readonly lockMinutes: fc.Arbitrary<number>;
  /**
   * Records seeded at AWS before meterkit sends its own: `conflict` with another quantity, `same` with the same
   * quantity (other tags, or the legacy buyer's account id instead of its CustomerIdentifier), `any` both, `none`.
   */
  readonly priors: 'conflict' | 'same' | 'any' | 'none';
  readonly lifecycle: boolean;
  readonly totals: boolean;
  readonly crashes: boolean;
  readonly maxCommands: number;
}

export interface RunConfig {
  readonly store: 'memory' | 'sqlite';
  readonly durability: 'interval' | 'sync';
  readonly lockMinutes: number;
  /** ISO start time of both clocks. */
  readonly start: string;
  /** A product-mode product is configured (a lock above its limit may then be refused). */
  readonly productMode: boolean;
}

/** Mid-month, or a few hours before a month ends (so runs cross 00:00 and the 06:00 cutoff on the 1st). */
const START_TIMES = ['2026-07-15T10:20:00.000Z', '2026-07-31T21:40:00.000Z', '2026-08-31T23:10:00.000Z', '2026-09-30T17:05:00.000Z'];

export function runConfig(scenario: Scenario): fc.Arbitrary<RunConfig> {
  return fc.record({
    store: fc.constantFrom(...scenario.stores),
    durability: fc.constantFrom('interval' as const, 'sync' as const),
    lockMinutes: scenario.lockMinutes,
    start: fc.constantFrom(...START_TIMES),
    productMode: fc.constant(scenario.slots.includes('product')),
  });
}

/** Mostly one dimension, so seeded priors, commits and faults meet on the same keys often. */
const dimension = fc.oneof({ weight: 4, arbitrary: fc.constant(METERED_DIMENSIONS[0]) }, { weight: 1, arbitrary: fc.constantFrom(...METERED_DIMENSIONS) });
const quantity = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 100_000 }));

const step: fc.Arbitrary<MeterStep> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(dimension, quantity).map(([d, q]) => [d, q] as const) },
  { weight: 2, arbitrary: fc.tuple(dimension, quantity, fc.constantFrom('red', 'blue')).map(([d, q, t]) => [d, q, t] as const) },
  { weight: 1, arbitrary: fc.constant(['discard'] as const) },
);

/** Product records stay untagged: MeterUsage de-duplicates on quantity and allocations together. */
const productStep: fc.Arbitrary<MeterStep> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(dimension, quantity).map(([d, q]) => [d, q] as const) },
  { weight: 1, arbitrary: fc.constant(['discard'] as const) },
);

const op = fc.constantFrom('BatchMeterUsage', 'MeterUsage', '*');
const count = fc.integer({ min: 1, max: 6 });
/** Faults that certainly applied nothing (throttling, UnprocessedRecords) come more often than ambiguous ones. */
const fault: fc.Arbitrary<FaultSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ThrottlingException' as const), op, count }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unprocessed' as const), rate: fc.constantFrom(0.5, 1) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('InternalServiceErrorException' as const, 'reset' as const, 'lost-answer' as const, 'lost-answer-reset' as const),
      op,
      count,
    }),
  },
);

const clockMove: fc.Arbitrary<ClockMove> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('minutes' as const), minutes: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('nextHour' as const), minutes: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('appRuns' as const), hours: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('downtime' as const), hours: fc.integer({ min: 2, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('monthEnd' as const), minutes: fc.constantFrom(-60, 175, 180, 300, 355, 360, 365) }) },
);

const customerSlot = (slots: readonly Slot[]): fc.Arbitrary<Exclude<Slot, 'product'>> | undefined => {
  const saas = slots.filter((s): s is Exclude<Slot, 'product'> => s !== 'product');
  return saas.length === 0 ? undefined : fc.constantFrom(...saas);
};

export function commands(scenario: Scenario): fc.Arbitrary<Iterable<fc.AsyncCommand<Model, EngineHarness>>> {
  const slot = fc.constantFrom(...scenario.slots);
  const saas = customerSlot(scenario.slots);
  const commit = slot.chain((s) =>
    fc.tuple(fc.array(s === 'product' ? productStep : step, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([steps, discardAll]) => C.commit(s, steps, discardAll && steps.length === 1)),
  );
  const list: Array<fc.WeightedArbitrary<fc.AsyncCommand<Model, EngineHarness>>> = [
    { weight: 8, arbitrary: commit },
    { weight: 1, arbitrary: fc.constant(C.persist()) },
    { weight: 2, arbitrary: fc.constant(C.flush()) },
    { weight: 4, arbitrary: fc.array(fault, { minLength: 1, maxLength: 2 }).map((faults) => C.flush(faults)) },
    { weight: 5, arbitrary: clockMove.map((move) => C.clock(move)) },
  ];
  if (scenario.crashes) {
    list.push(
      { weight: 1, arbitrary: fc.boolean().map((crash) => C.restart(crash)) },
      // Mostly the first call of a flush with the current hour due, so the crash meets a call in most runs.
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom(...SEND_PHASES), fc.constantFrom(0, 0, 0, 1, 2), fc.constantFrom(true, true, true, false))
          .map(([phase, index, due]) => C.crashMidSend(phase, index, due)),
      },
    );
  }
  if (scenario.priors !== 'none') {
    const conflicting = fc.oneof(fc.integer({ min: -5, max: -1 }), fc.integer({ min: 1, max: 50 }));
    const delta = scenario.priors === 'conflict' ? conflicting : scenario.priors === 'same' ? fc.constant(0) : fc.oneof(fc.constant(0), conflicting);
    // In conflict runs the legacy buyer is seeded by CustomerIdentifier only: the account-id form is the `same` runs' subject.
    const byAccount = scenario.priors === 'conflict' ? fc.constant(false) : fc.boolean();
    list.push({
      weight: 3,
      arbitrary: fc
        .tuple(slot, dimension, delta, byAccount, fc.option(fc.constantFrom('red', 'green'), { nil: null }), fc.constantFrom(0, 0, 1, 2))
        .map(([s, d, dq, account, tag, hoursAgo]) => C.seed(s, d, dq, account, s === 'product' ? null : tag, hoursAgo)),
    });
  }
  if (scenario.lifecycle && saas !== undefined) {
    const licenseKinds: LifecycleKind[] = ['License Updated', 'License Deprovisioned'];
    const legacyKinds: LifecycleKind[] = ['subscribe-success', 'unsubscribe-pending', 'unsubscribe-success'];
    list.push(
      {
        weight: 2,
        arbitrary: saas.chain((s) =>
          fc
            .tuple(fc.constantFrom(...(s === 'legacy' ? legacyKinds : licenseKinds)), fc.integer({ min: 0, max: 120 }), fc.boolean())
            .map(([kind, minutesAgo, twice]) => C.lifecycle(s, kind, minutesAgo, twice)),
        ),
      },
      { weight: 1, arbitrary: fc.nat(20).map((i) => C.redeliver(i)) },
      // meter(identity) skips the registry: usage of a stopped customer is accepted (and may arrive late).
      {
        weight: 2,
        arbitrary: saas.chain((s) => fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) => C.commit(s, steps, false, true))),
      },
    );
  }
  if (scenario.totals && saas !== undefined) {
    list.push({
      weight: 1,
      arbitrary: fc
        .tuple(saas, fc.constantFrom(...TOTAL_DIMENSIONS), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 500 }))
        .map(([s, d, hoursAgo, q]) => C.setTotal(s, d, hoursAgo, q)),
    });
  }
  return fc.commands([fc.oneof(...list)], { maxCommands: scenario.maxCommands, size: 'max' });
}
