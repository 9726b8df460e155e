import fc from 'fast-check';
import { isMeterkitError } from '../../src';
import { EngineHarness } from '../support/engine-harness';
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
  const seed = env.METERKIT_FUZZ_SEED !== undefined ? Number(env.METERKIT_FUZZ_SEED) : fuzzing ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : 20261207;
  const path = env.METERKIT_FUZZ_PATH;
  return { numRuns, seed, ...(path === undefined ? {} : { path, endOnFailure: true }) };
}

/** One run: the engine and the model side by side, then every window passes with the app flushing, then the checks. */
export async function runOnce(config: RunConfig, cmds: Iterable<fc.AsyncCommand<Model, EngineHarness>>): Promise<void> {
  const start = Date.parse(config.start);
  let harness: EngineHarness;
  try {
    harness = await EngineHarness.start({ ...config, start });
  } catch (error) {
    // A lock that cannot make MeterUsage's 6-hour window may be refused up front instead of losing product hours;
    // a lock that can (2 hours or less) must be accepted.
    if (config.productMode && config.lockMinutes > PRODUCT_LOCK_ALWAYS_ACCEPTED && isMeterkitError(error) && error.code === 'ERR_METERKIT_OPTIONS') return;
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
  } finally {
    await harness.close();
  }
}

/** The property of a scenario: for every run configuration and command sequence, every invariant holds. */
export async function checkScenario(name: string, scenario: Scenario, defaultRuns: number): Promise<void> {
  const parameters = fuzzParameters(defaultRuns);
  process.stdout.write(`generative ${name}: seed=${parameters.seed} runs=${parameters.numRuns}${parameters.path === undefined ? '' : ` path=${parameters.path}`}\n`);
  await fc.assert(
    fc.asyncProperty(runConfig(scenario), commands(scenario), (config, cmds) => runOnce(config, cmds)),
    parameters,
  );
}
