import { busiestWindow, flushTogether } from '../../core/test/support/shared-quota';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

// Three engines on one PostgreSQL database share one send quota: the emulator never sees more calls in a second
// than one instance may make (8 calls per 1067 ms at 7.5/s; see packages/core/test/shared-quota.spec.ts).
const janitor = new SchemaJanitor();

beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

describe('one send quota for several instances on one PostgreSQL database', () => {
  it('three engines flushing at once never put more than the budget into any sliding second of the emulator', async () => {
    const schema = janitor.fresh('shared_quota');
    const run = await flushTogether(3, 150, () => ({
      store: new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 }),
      requestsPerSecond: 7.5,
    }));
    expect(run.records).toBe(1500);
    expect(run.reports.reduce((sum, report) => sum + report.sent, 0)).toBe(1500);
    expect(run.reports.filter((report) => report.calls > 0).length).toBeGreaterThanOrEqual(2);
    expect(run.callTimes).toHaveLength(60);
    expect(busiestWindow(run.callTimes, 1000)).toBeLessThanOrEqual(8);
  }, 120_000);
});
