import fc from 'fast-check';
import { hourOf, type EntitlementStore } from '../../src';
import {
  ConsumptionWorld,
  INCLUDED,
  METERED,
  type Allowance,
  type ConsumptionWorldOptions,
  type MeteredDimension,
  type StoreFault,
} from './consumption-world';

/**
 * The commands, model and checks of the contracts-with-consumption property (consumption.property.spec.ts) and of its
 * regression tests: record() on several engines sharing one store, entitlement raises, persists whose store writes
 * reach the store in any order (fast-check's scheduler) and fail or lose their answer, flushes through AWS faults,
 * crashes. For every (customer, included dimension, period), what AWS received is
 * exactly the usage above what was included, each batch measured against the included amount it was written with:
 * max(0, used − included) while the entitlement did not change.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The app's persist-and-flush tick while time passes. */
const TICK_MS = 20 * MINUTE;
/** 2026-07-31T21:10:00Z: runs cross an hour and a month boundary. */
const START = Date.UTC(2026, 6, 31, 21, 10);

interface Model {
  now: number;
}

export type Cmd = fc.AsyncCommand<Model, ConsumptionWorld>;

function show(name: string, ...args: unknown[]): string {
  return `C.${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
}

type AwsFault = 'ThrottlingException' | 'InternalServiceErrorException' | 'lost-answer';

/** Every engine persists with nothing failing: each must succeed. */
async function persistClean(w: ConsumptionWorld): Promise<void> {
  const results = await w.persistAll();
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw new Error(`a persist with a healthy store failed: ${String((failed as PromiseRejectedResult).reason)}`);
}

async function flush(w: ConsumptionWorld, engine: number, faults: readonly AwsFault[] = []): Promise<void> {
  await persistClean(w);
  for (const fault of faults) w.emu.faults.failNext('BatchMeterUsage', fault, 1);
  try {
    await w.engines[engine % w.engines.length]!.metering.flush();
  } finally {
    w.emu.faults.reset();
  }
}

/** Time passes with the app running: every tick, every engine persists and one of them flushes. */
async function appRuns(w: ConsumptionWorld, m: Model, until: number): Promise<void> {
  let tick = 0;
  while (m.now < until) {
    m.now = Math.min(until, m.now + TICK_MS);
    w.setTime(m.now);
    await flush(w, tick++);
  }
}

class RecordCommand implements Cmd {
  constructor(
    readonly engine: number,
    readonly customer: number,
    readonly dimension: MeteredDimension,
    readonly quantity: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: ConsumptionWorld): Promise<void> {
    w.record(this.engine % w.engines.length, this.customer, this.dimension, this.quantity);
  }
  toString(): string {
    return show('record', this.engine, this.customer, this.dimension, this.quantity);
  }
}

/** All engines persist at once; the scheduler picks the order their writes reach the store; some fail or lose the answer. */
class PersistCommand implements Cmd {
  constructor(
    readonly faults: readonly StoreFault[][],
    readonly scheduler: fc.Scheduler,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: ConsumptionWorld): Promise<void> {
    const s = this.scheduler;
    await w.persistAll(
      this.faults,
      (label) => s.schedule(Promise.resolve(label), label).then(() => undefined),
      (all) => s.waitFor(all),
    );
  }
  toString(): string {
    return `${show('persist', this.faults)} /* ${String(this.scheduler)} */`;
  }
}

class RaiseCommand implements Cmd {
  constructor(
    readonly customer: number,
    readonly allowance: Allowance,
    readonly by: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: ConsumptionWorld): Promise<void> {
    await w.raise(this.customer, this.allowance, this.by);
  }
  toString(): string {
    return show('raise', this.customer, this.allowance, this.by);
  }
}

class FlushCommand implements Cmd {
  constructor(
    readonly engine: number,
    readonly faults: readonly AwsFault[],
  ) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: ConsumptionWorld): Promise<void> {
    await flush(w, this.engine, this.faults);
  }
  toString(): string {
    return show('flush', this.engine, this.faults);
  }
}

class ClockCommand implements Cmd {
  constructor(readonly minutes: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, w: ConsumptionWorld): Promise<void> {
    await appRuns(w, m, m.now + this.minutes * MINUTE);
  }
  toString(): string {
    return show('clock', this.minutes);
  }
}

class CrashCommand implements Cmd {
  constructor(readonly engine: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: ConsumptionWorld): Promise<void> {
    await w.crash(this.engine % w.engines.length);
  }
  toString(): string {
    return show('crash', this.engine);
  }
}

/** Constructors the arbitraries use and, verbatim, the regression tests (toString prints these calls). */
export const C = {
  record: (engine: number, customer: number, dimension: MeteredDimension, quantity: number): Cmd => new RecordCommand(engine, customer, dimension, quantity),
  persist: (faults: readonly StoreFault[][], scheduler: fc.Scheduler): Cmd => new PersistCommand(faults, scheduler),
  raise: (customer: number, allowance: Allowance, by: number): Cmd => new RaiseCommand(customer, allowance, by),
  flush: (engine: number, faults: readonly AwsFault[] = []): Cmd => new FlushCommand(engine, faults),
  clock: (minutes: number): Cmd => new ClockCommand(minutes),
  crash: (engine: number): Cmd => new CrashCommand(engine),
};

const ENGINES = 3;
const CUSTOMERS = 2;

export function commands(): fc.Arbitrary<Iterable<Cmd>> {
  const engine = fc.nat(ENGINES - 1);
  const customer = fc.nat(CUSTOMERS - 1);
  const storeFault = fc.constantFrom<StoreFault>('ok', 'ok', 'fail', 'lost-answer');
  const record = fc.tuple(engine, customer, fc.constantFrom<MeteredDimension>(...METERED), fc.integer({ min: 1, max: 12 })).map(([e, c, d, q]) => C.record(e, c, d, q));
  return fc.commands(
    [
      record,
      record,
      record,
      fc.tuple(fc.array(fc.array(storeFault, { maxLength: 2 }), { minLength: ENGINES, maxLength: ENGINES }), fc.scheduler()).map(([f, s]) => C.persist(f, s)),
      fc.tuple(customer, fc.constantFrom<Allowance>('api_quota', 'export_quota'), fc.integer({ min: 1, max: 15 })).map(([c, a, by]) => C.raise(c, a, by)),
      fc.tuple(engine, fc.array(fc.constantFrom<AwsFault>('ThrottlingException', 'InternalServiceErrorException', 'lost-answer'), { maxLength: 2 })).map(([e, f]) => C.flush(e, f)),
      fc.integer({ min: 5, max: 90 }).map((minutes) => C.clock(minutes)),
      engine.map((e) => C.crash(e)),
    ],
    { maxCommands: 40, size: 'large' },
  );
}

export interface RunSetup {
  readonly store: ConsumptionWorldOptions['store'];
  readonly cacheMs: number;
  readonly initial: ConsumptionWorldOptions['initial'];
}

export function setup(stores: ReadonlyArray<RunSetup['store']>): fc.Arbitrary<RunSetup> {
  const quota = fc.integer({ min: 0, max: 30 });
  return fc.record({
    store: fc.constantFrom(...stores),
    cacheMs: fc.constantFrom(0, 5_000),
    initial: fc.array(fc.record({ api_quota: quota, export_quota: quota }), { minLength: CUSTOMERS, maxLength: CUSTOMERS }),
  });
}

/**
 * `npm test` runs a few fixed-seed runs; METERKIT_FUZZ_RUNS asks for more (with a random seed, printed). Replay a
 * failure with METERKIT_FUZZ_SEED=<seed> METERKIT_FUZZ_PATH=<path>, as the other generative suites.
 */
function fuzzParameters(defaultRuns: number): fc.Parameters<unknown> {
  const env = process.env;
  const fuzzing = env.METERKIT_FUZZ_RUNS !== undefined;
  const numRuns = fuzzing ? Number(env.METERKIT_FUZZ_RUNS) : defaultRuns;
  const seed = env.METERKIT_FUZZ_SEED !== undefined ? Number(env.METERKIT_FUZZ_SEED) : fuzzing ? Math.floor(Math.random() * 0x7fffffff) : 20261207;
  const path = env.METERKIT_FUZZ_PATH;
  return { numRuns, seed, ...(path === undefined ? {} : { path, endOnFailure: true }) };
}

const counterKey = (customer: string, allowance: string, period: number) => `${customer}|${allowance}|${period}`;
const recordKey = (customer: string, dimension: string, hour: number) => `${customer}|${dimension}|${hour}`;

function add(map: Map<string, number>, key: string, quantity: number): void {
  map.set(key, (map.get(key) ?? 0) + quantity);
}

/** The invariants, once every engine persisted and every hour was flushed. */
async function checkExact(w: ConsumptionWorld): Promise<void> {
  const allowanceOf = new Map<string, string>(Object.entries(INCLUDED).map(([dimension, { entitlement }]) => [dimension, entitlement]));
  const customerIndex = new Map(w.customers.map((c, i) => [c.key, i]));

  // Replay the writes the store applied, in its order: the counters and the metered parts they must give.
  const used = new Map<string, number>();
  const includedSeen = new Map<string, Set<number>>();
  const expected = new Map<string, number>();
  const appliedPerEngine = new Map<number, Map<string, number>>();
  for (const write of w.applied) {
    const perEngine = appliedPerEngine.get(write.engine) ?? new Map<string, number>();
    appliedPerEngine.set(write.engine, perEngine);
    for (const delta of write.deltas) {
      expect(allowanceOf.has(delta.dimension)).toBe(false);
      add(expected, recordKey(delta.customerKey, delta.dimension, delta.hour), delta.quantity);
      add(perEngine, `${customerIndex.get(delta.customerKey)}|${delta.dimension}|${delta.hour}`, delta.quantity);
    }
    write.uses.forEach((use, i) => {
      const { delta } = use;
      const c = customerIndex.get(delta.customerKey)!;
      expect(use.allowanceDimension).toBe(allowanceOf.get(delta.dimension));
      const period = INCLUDED[delta.dimension as keyof typeof INCLUDED].period;
      expect(use.periodStart).toBe(period === 'hour' ? delta.hour : Date.UTC(new Date(delta.hour).getUTCFullYear(), new Date(delta.hour).getUTCMonth(), 1));
      // Never more than the entitlement held when the batch was written, and a value it did hold.
      const allowance = use.allowanceDimension as Allowance;
      const values = w.history[c]![allowance];
      const raisedBefore = w.raiseLog.slice(0, write.raisesBefore).filter((r) => r.customer === c && r.allowance === allowance).length;
      expect(values).toContain(use.included);
      expect(use.included).toBeLessThanOrEqual(values[raisedBefore]!);
      const key = counterKey(delta.customerKey, use.allowanceDimension, use.periodStart);
      const before = used.get(key) ?? 0;
      const part = Math.max(0, before + delta.quantity - use.included) - Math.max(0, before - use.included);
      expect(write.metered[i]).toBe(part);
      used.set(key, before + delta.quantity);
      includedSeen.set(key, (includedSeen.get(key) ?? new Set()).add(use.included));
      add(expected, recordKey(delta.customerKey, delta.dimension, delta.hour), part);
      add(perEngine, `${c}|${delta.dimension}|${delta.hour}`, delta.quantity);
    });
  }

  // Nothing counted twice or lost: each engine's usage reached the store exactly once, unless the engine crashed
  // (its unpersisted usage is lost, documented for durability 'interval'); never more than it recorded.
  w.recorded.forEach((recorded, engine) => {
    const applied = appliedPerEngine.get(engine) ?? new Map<string, number>();
    for (const [key, quantity] of applied) expect(quantity).toBeLessThanOrEqual(recorded.get(key) ?? 0);
    if (!w.crashed.has(engine)) expect(Object.fromEntries(applied)).toEqual(Object.fromEntries([...recorded].filter(([, q]) => q > 0)));
  });

  // The store's counters are the units it was given.
  const store = w.engines[0]!.metering.store as unknown as EntitlementStore;
  for (const c of w.customers) {
    for (const counter of await store.listAllowanceCounters(c.key)) {
      expect(counter.used).toBe(used.get(counterKey(c.key, counter.allowanceDimension, counter.periodStart)));
    }
  }

  // AWS holds exactly the metered parts (and pay-as-you-go usage in full); nothing was late.
  const atAws = new Map<string, number>();
  const keyOfArn = new Map(w.customers.map((c) => [c.licenseArn, c.key]));
  for (const record of w.emu.inspect.records()) add(atAws, recordKey(keyOfArn.get(record.licenseArn!)!, record.dimension, record.hour), record.quantity);
  const positive = (map: Map<string, number>) => Object.fromEntries([...map].filter(([, q]) => q > 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  expect(positive(atAws)).toEqual(positive(expected));
  expect((await w.engines[0]!.metering.store.stats()).lateQuantity).toBe(0);

  // Per period: what AWS holds is max(0, used − included) whenever one included amount applied to the whole period.
  for (const [key, total] of used) {
    const seen = includedSeen.get(key)!;
    if (seen.size !== 1) continue;
    const [customer, allowance, period] = key.split('|') as [string, string, string];
    const dimension = Object.entries(INCLUDED).find(([, v]) => v.entitlement === allowance)![0];
    let sent = 0;
    for (const [k, q] of atAws) {
      const [kc, kd, kh] = k.split('|') as [string, string, string];
      const inPeriod = INCLUDED[dimension as keyof typeof INCLUDED].period === 'hour' ? Number(kh) === Number(period) : Number(kh) >= Number(period) && hourOf(Number(kh)) < Date.UTC(new Date(Number(period)).getUTCFullYear(), new Date(Number(period)).getUTCMonth() + 1, 1);
      if (kc === customer && kd === dimension && inPeriod) sent += q;
    }
    expect(sent).toBe(Math.max(0, total - [...seen][0]!));
  }
}

/** What the runs of a property exercised, printed after it passes. */
interface Coverage {
  runs: number;
  appliedWrites: number;
  usesAboveIncluded: number;
  meteredUnits: number;
  raises: number;
  crashes: number;
  recordsAtAws: number;
  periodsWithSeveralIncludedAmounts: number;
}

function emptyCoverage(): Coverage {
  return { runs: 0, appliedWrites: 0, usesAboveIncluded: 0, meteredUnits: 0, raises: 0, crashes: 0, recordsAtAws: 0, periodsWithSeveralIncludedAmounts: 0 };
}

function count(coverage: Coverage, w: ConsumptionWorld): void {
  coverage.runs++;
  coverage.appliedWrites += w.applied.length;
  const included = new Map<string, Set<number>>();
  for (const write of w.applied) {
    write.uses.forEach((use, i) => {
      if (write.metered[i]! > 0) coverage.usesAboveIncluded++;
      coverage.meteredUnits += write.metered[i]!;
      const key = counterKey(use.delta.customerKey, use.allowanceDimension, use.periodStart);
      included.set(key, (included.get(key) ?? new Set()).add(use.included));
    });
  }
  for (const seen of included.values()) if (seen.size > 1) coverage.periodsWithSeveralIncludedAmounts++;
  coverage.raises += w.raiseLog.length;
  coverage.crashes += w.crashed.size;
  coverage.recordsAtAws += w.emu.inspect.records().length;
}

export async function runConsumption(run: RunSetup, cmds: Iterable<Cmd>, coverage: Coverage = emptyCoverage()): Promise<void> {
  const world = await ConsumptionWorld.start({ ...run, engines: ENGINES, customers: CUSTOMERS, start: START });
  const model: Model = { now: START };
  try {
    await fc.asyncModelRun(() => ({ model, real: world }), cmds);
    // The app keeps running until every hour is closed and sent.
    await appRuns(world, model, hourOf(model.now) + 3 * HOUR);
    await checkExact(world);
    count(coverage, world);
  } finally {
    await world.close();
  }
}

export async function checkProperty(name: string, stores: ReadonlyArray<RunSetup['store']>, runs: number): Promise<void> {
  const parameters = fuzzParameters(runs);
  process.stdout.write(`generative ${name}: seed=${parameters.seed} runs=${parameters.numRuns}${parameters.path === undefined ? '' : ` path=${parameters.path}`}\n`);
  const coverage = emptyCoverage();
  await fc.assert(fc.asyncProperty(setup(stores), commands(), (run, cmds) => runConsumption(run, cmds, coverage)), parameters);
  process.stdout.write(`generative ${name}: passed; exercised ${JSON.stringify(coverage)}\n`);
}
