import fc from 'fast-check';
import { isMeterkitError } from '../../src';
import { EngineHarness, type SendPhase } from '../support/engine-harness';
import { commands, runConfig, type RunConfig, type Scenario } from './arbitraries';
import { appRuns } from './commands';
import { checkRun } from './invariants';
import { Model } from './model';

const HOUR = 3_600_000;
/** Minutes of lock a product-mode configuration must accept: an hour closed 1 h + 2 h ago still has 3 h of window. */
const PRODUCT_LOCK_ALWAYS_ACCEPTED = 120;

/**
 * Budget and replay of the generative suites. `npm test` runs a few fixed-seed runs per property; `npm run fuzz`
 * sets METERKIT_FUZZ_RUNS (and no seed: a random one, printed). A failure prints seed and path: replay it with
 * METERKIT_FUZZ_SEED=<seed> METERKIT_FUZZ_PATH=<path> (and the property's name as the jest -t filter).
 */
export function fuzzParameters(defaultRuns: number): fc.Parameters<unknown> {
  const env = process.env;
  const fuzzing = env.METERKIT_FUZZ_RUNS !== undefined;
  const numRuns = fuzzing ? Number(env.METERKIT_FUZZ_RUNS) : defaultRuns;
  const seed = env.METERKIT_FUZZ_SEED !== undefined ? Number(env.METERKIT_FUZZ_SEED) : fuzzing ? Math.floor(Math.random() * 0x7fffffff) : 20261207;
  const path = env.METERKIT_FUZZ_PATH;
  return { numRuns, seed, ...(path === undefined ? {} : { path, endOnFailure: true }) };
}

/** What the runs of a property exercised, printed after it passes (figures for docs/reliability.md). */
export interface Coverage {
  runs: number;
  refusedConfigurations: number;
  commands: number;
  keys: number;
  sent: number;
  expired: number;
  duplicate: number;
  conflicts: number;
  sameQuantityPriors: number;
  ambiguous: number;
  restarts: number;
  lifecycleEvents: number;
  callsToAws: number;
  /** Crashes in the middle of a flush, by where the held call was (or no-call: the flush made fewer calls). */
  midSendCrashes: Record<SendPhase | 'no-call', number>;
}

export function emptyCoverage(): Coverage {
  return {
    runs: 0,
    refusedConfigurations: 0,
    commands: 0,
    keys: 0,
    sent: 0,
    expired: 0,
    duplicate: 0,
    conflicts: 0,
    sameQuantityPriors: 0,
    ambiguous: 0,
    restarts: 0,
    lifecycleEvents: 0,
    callsToAws: 0,
    midSendCrashes: { 'waiting-for-slot': 0, 'on-the-wire': 0, 'answer-lost': 0, 'no-call': 0 },
  };
}

async function count(coverage: Coverage, model: Model, harness: EngineHarness, commands: number): Promise<void> {
  coverage.runs++;
  coverage.commands += commands;
  coverage.keys += model.keys.size;
  for (const record of await harness.metering.store.listRecords()) {
    if (record.state === 'sent') coverage.sent++;
    else if (record.state === 'expired') coverage.expired++;
    else if (record.state === 'duplicate') coverage.duplicate++;
  }
  for (const key of model.keys.values()) {
    if (key.seeded !== undefined) {
      if (key.seeded.quantity === key.promised) coverage.sameQuantityPriors++;
      else coverage.conflicts++;
    }
    if (key.ambiguous) coverage.ambiguous++;
  }
  coverage.restarts += harness.restarts;
  coverage.lifecycleEvents += model.deliveries.length;
  coverage.callsToAws += harness.emu.inspect.calls().length;
  for (const [phase, crashes] of Object.entries(harness.midSendCrashes)) coverage.midSendCrashes[phase as SendPhase | 'no-call'] += crashes;
}

/** One run: the engine and the model side by side, then every window passes with the app flushing, then the checks. */
export async function runOnce(config: RunConfig, cmds: Iterable<fc.AsyncCommand<Model, EngineHarness>>, coverage: Coverage = emptyCoverage()): Promise<void> {
  const start = Date.parse(config.start);
  let harness: EngineHarness;
  try {
    harness = await EngineHarness.start({ ...config, start });
  } catch (error) {
    // A lock that cannot make MeterUsage's 6-hour window may be refused up front instead of losing product hours;
    // a lock that can (2 hours or less) must be accepted.
    if (config.productMode && config.lockMinutes > PRODUCT_LOCK_ALWAYS_ACCEPTED && isMeterkitError(error) && error.code === 'ERR_METERKIT_OPTIONS') {
      coverage.refusedConfigurations++;
      return;
    }
    throw error;
  }
  const model = new Model({ lockMs: config.lockMinutes * 60_000, durability: config.durability, crashes: config.store === 'sqlite' }, start);
  try {
    await fc.asyncModelRun(() => ({ model, real: harness }), cmds);
    await checkRun(model, harness, false);
    // The app keeps running, AWS healthy, until every window has closed.
    let last = model.now;
    for (const key of model.keys.values()) last = Math.max(last, Model.deadline(key));
    await appRuns(harness, model, last + HOUR);
    await checkRun(model, harness, true);
    await count(coverage, model, harness, [...cmds].length);
  } finally {
    await harness.close();
  }
}

/** The property of a scenario: for every run configuration and command sequence, every invariant holds. */
export async function checkScenario(name: string, scenario: Scenario, defaultRuns: number): Promise<void> {
  const parameters = fuzzParameters(defaultRuns);
  process.stdout.write(`generative ${name}: seed=${parameters.seed} runs=${parameters.numRuns}${parameters.path === undefined ? '' : ` path=${parameters.path}`}\n`);
  const coverage = emptyCoverage();
  await fc.assert(
    fc.asyncProperty(runConfig(scenario), commands(scenario), (config, cmds) => runOnce(config, cmds, coverage)),
    parameters,
  );
  process.stdout.write(`generative ${name}: passed; exercised ${JSON.stringify(coverage)}\n`);
}
