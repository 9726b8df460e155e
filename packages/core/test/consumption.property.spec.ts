import { checkProperty } from './support/consumption-commands';

/** `npm run fuzz` runs these for as long as METERKIT_FUZZ_RUNS asks; runs never wait on the wall clock. */
const TIMEOUT_MS = 24 * 3_600_000;

describe('generative: contracts with consumption bill exactly the usage above the entitlement (several engines, one store)', () => {
  it('on a shared memory store: any interleaving of records, raises, persists with lost answers, flushes and crashes', () =>
    checkProperty('consumption-memory', ['memory'], 40), TIMEOUT_MS);

  it('on one SQLite file shared by every engine', () => checkProperty('consumption-sqlite', ['sqlite'], 25), TIMEOUT_MS);
});
