import fc from 'fast-check';
import { raceBudget } from './budget';
import { faultScenarios, runFaultRace, type RequestBound } from './fault-race';
import { FAULT_REGRESSIONS } from './fault-regressions';
import { ReplayScheduler } from './interleaver';
import type { RaceStoreHarness } from './race-world';

/**
 * The bound on request-path store calls (storeTimeoutMs) in the fault runs: short, so that a run waits little, and
 * long enough that a call waiting its turn in the scheduler is seldom cut off (when it is, the invariants still hold).
 */
export const REQUEST_BOUND: RequestBound = { ms: 250, options: { storeTimeoutMs: 250 } };

/** The store fault property and its regressions (see runFaultRace). */
export function describeFaultRaces(harness: RaceStoreHarness, runs: number): void {
  const budget = raceBudget(runs);
  it(`store calls that fail, lose their answer or hang never stall a request, and totals are exact once the store recovers (seed ${budget.seed}, ${budget.numRuns} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), faultScenarios(), (s, scenario) => runFaultRace(harness, scenario, s, REQUEST_BOUND)),
      { numRuns: budget.numRuns, seed: budget.seed },
    );
  }, budget.timeoutMs);

  describe('store fault regressions (shrunk counterexamples)', () => {
    for (const regression of FAULT_REGRESSIONS) {
      it(regression.name, () => runFaultRace(harness, regression.scenario, new ReplayScheduler([]), REQUEST_BOUND));
    }
  });
}
