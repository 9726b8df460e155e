/**
 * Runs per property: a small fixed budget in `npm test`, METERKIT_FUZZ_RUNS under `npm run fuzz`, which also sets
 * METERKIT_FUZZ_SEED. fast-check prints the seed and the shrunk counterexample (the scheduler's order included)
 * when a property fails.
 */
export interface RaceBudget {
  readonly numRuns: number;
  readonly seed: number;
  /** Jest's timeout for one property. */
  readonly timeoutMs: number;
}

export function raceBudget(defaultRuns: number, msPerRun = 4_000): RaceBudget {
  const fuzzRuns = Number(process.env.METERKIT_FUZZ_RUNS);
  const numRuns = Number.isInteger(fuzzRuns) && fuzzRuns > 0 ? fuzzRuns : defaultRuns;
  const fuzzSeed = Number(process.env.METERKIT_FUZZ_SEED);
  const fuzzing = Number.isInteger(fuzzRuns) && fuzzRuns > 0;
  // `npm test` replays one fixed seed; `npm run fuzz` explores from a random one unless told which.
  const seed = Number.isInteger(fuzzSeed) ? fuzzSeed : fuzzing ? Math.floor(Math.random() * 0x7fffffff) : 20261207;
  // Shrinking a failure replays the scenario many times: leave room for it.
  return { numRuns, seed, timeoutMs: Math.max(120_000, numRuns * msPerRun * 3) };
}
