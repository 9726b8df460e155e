import fc from 'fast-check';
import { raceBudget } from './budget';
import { describeFaultRaces } from './fault-kit';
import { firstContactScenarios, runFirstContactRace } from './first-contact-race';
import { FIRST_CONTACT_REGRESSIONS } from './first-contact-regressions';
import { ReplayScheduler } from './interleaver';
import { lifecycleScenarios, runLifecycleRace } from './lifecycle-race';
import { LIFECYCLE_REGRESSIONS } from './lifecycle-regressions';
import type { RaceStoreHarness } from './race-world';

export type { RaceStoreHarness } from './race-world';

export interface RaceKitOptions {
  /** Runs per property in `npm test` (METERKIT_FUZZ_RUNS overrides). Default 20. */
  readonly runs?: number;
}

/**
 * Declares (with Jest's globals) the race runs every UsageStore must pass: fast-check's scheduler interleaves the
 * store calls (and AWS calls) of several engine instances on one backing store, through the store's own handles.
 */
export function describeRaceKit(name: string, harness: RaceStoreHarness, options: RaceKitOptions = {}): void {
  describe(`race runs: ${name}`, () => {
    const lifecycle = raceBudget(options.runs ?? 20);
    it(`lifecycle events, registration, links, commits, flushes and persists on several instances leave the sequential outcome (seed ${lifecycle.seed}, ${lifecycle.numRuns} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), lifecycleScenarios(), (s, scenario) => runLifecycleRace(harness, scenario, s)),
        { numRuns: lifecycle.numRuns, seed: lifecycle.seed },
      );
    }, lifecycle.timeoutMs);

    const faulty = raceBudget(Math.ceil((options.runs ?? 20) / 2));
    it(`the same races with store calls that fail or lose their answer, refused events delivered again (seed ${faulty.seed}, ${faulty.numRuns} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), lifecycleScenarios({ faults: true }), (s, scenario) => runLifecycleRace(harness, scenario, s)),
        { numRuns: faulty.numRuns, seed: faulty.seed },
      );
    }, faulty.timeoutMs);

    describe('lifecycle regressions (shrunk counterexamples, their scheduler order replayed)', () => {
      for (const regression of LIFECYCLE_REGRESSIONS) {
        it(regression.name, () => runLifecycleRace(harness, regression.scenario, new ReplayScheduler(regression.order)));
      }
    });

    const firstContact = raceBudget(options.runs ?? 20);
    it(`License Updated, License Deprovisioned, a redelivery and a registration of a customer the store does not know yet leave on every instance the state of applying them in order (seed ${firstContact.seed}, ${firstContact.numRuns} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), firstContactScenarios(), (s, scenario) => runFirstContactRace(harness, scenario, s)),
        { numRuns: firstContact.numRuns, seed: firstContact.seed },
      );
    }, firstContact.timeoutMs);

    describe('first-contact regressions (shrunk counterexamples, their scheduler order replayed)', () => {
      for (const regression of FIRST_CONTACT_REGRESSIONS) {
        it(regression.name, () => runFirstContactRace(harness, regression.scenario, new ReplayScheduler(regression.order)));
      }
    });

    describeFaultRaces(harness, options.runs ?? 20);
  });
}
