import fc from 'fast-check';
import type { Scenario } from './arbitraries';
import { checkScenario } from './run';

/** `npm run fuzz` runs these for as long as METERKIT_FUZZ_RUNS asks; runs never wait on the wall clock. */
const TIMEOUT_MS = 24 * 3_600_000;
/** Runs per property in `npm test` (fixed seed); METERKIT_FUZZ_RUNS overrides them. */
const RUNS = 100;
const SQLITE_RUNS = 60;

const scenario = (s: Partial<Scenario> & Pick<Scenario, 'slots' | 'priors'>): Scenario => ({
  stores: ['memory', 'sqlite'],
  lockMinutes: fc.constantFrom(0, 10, 60, 600),
  lifecycle: false,
  totals: false,
  crashes: false,
  maxCommands: 25,
  ...s,
});

describe('generative: the engine against a reference model (fast-check model-based runs, real SDK over HTTP to the emulator)', () => {
  it('SaaS buyers through AWS faults: AWS holds exactly what was promised, a conflicting prior record surfaces as duplicate', () =>
    checkScenario('saas-conflicts', scenario({ slots: ['lic0', 'legacy'], priors: 'conflict', totals: true, lockMinutes: fc.constantFrom(0, 10, 60) }), RUNS), TIMEOUT_MS);

  it('SaaS buyers: a record AWS already holds with the same quantity (other tags, or the legacy account id) is billed once', () =>
    checkScenario('saas-same-prior', scenario({ slots: ['lic0', 'legacy'], priors: 'same' }), RUNS), TIMEOUT_MS);

  it('product mode (MeterUsage) through AWS faults: a conflicting prior report surfaces as duplicate', () =>
    checkScenario('product-conflicts', scenario({ slots: ['product'], priors: 'conflict', lockMinutes: fc.constantFrom(0, 10, 60, 120) }), RUNS), TIMEOUT_MS);

  it('product mode (MeterUsage): every hour is sent inside the 6-hour window whatever the lock, or the lock is refused', () =>
    checkScenario('product-windows', scenario({ slots: ['product', 'lic0'], priors: 'none', lockMinutes: fc.constantFrom(0, 10, 120, 180, 300, 600, 1200) }), RUNS), TIMEOUT_MS);

  it('the whole engine on SQLite: crash and restart, lifecycle events in any order and twice, totals, month ends', () =>
    checkScenario(
      'whole-engine',
      scenario({
        slots: ['lic0', 'lic1', 'legacy', 'product'],
        stores: ['sqlite'],
        priors: 'any',
        lockMinutes: fc.constantFrom(0, 10, 60, 180),
        lifecycle: true,
        totals: true,
        crashes: true,
        maxCommands: 30,
      }),
      SQLITE_RUNS,
    ), TIMEOUT_MS);
});
