import type { UsageDelta } from '@meterkit/core';
import { PostgresStore } from '../src';
import { SchemaJanitor, testPool } from './support/database';
import { licenseDelta } from './support/license-delta';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);
const OWNER = 'instance-a';

function delta(n: number): UsageDelta {
  return licenseDelta(n, HOUR, 1);
}

// A writer that takes the same records' row locks in another order (another instance adding late usage to records being
// sent, say) deadlocks with the journal; PostgreSQL rolls one of the two back, and a rolled-back single statement is safe
// to run again: the store retries it instead of failing the flush.
it('journals attempts even when PostgreSQL picks the journal as the victim of a deadlock', async () => {
  const pool = testPool(4);
  const schema = janitor.fresh('lockorder');
  const store = new PostgresStore({ pool, schema });
  const other = await pool.connect();
  try {
    await store.open();
    await store.addUsage(Array.from({ length: 8 }, (_, i) => delta(i)));
    const claimed = await store.claim({ now: HOUR + 2 * 3_600_000, dueBefore: HOUR + 3_600_000, owner: OWNER, leaseMs: 600_000, limit: 100 });
    const ids = claimed.map((r) => r.id).sort();
    expect(ids).toHaveLength(8);
    const last = ids[ids.length - 1]!;
    // The other writer holds the last record, so the journal locks the others and waits for it ...
    await other.query('BEGIN');
    await other.query(`SELECT id FROM "${schema}".meterkit_usage_records WHERE id = $1 FOR UPDATE`, [last]);
    const journaled = store.journal(ids, OWNER, HOUR + 2 * 3_600_000);
    const waiting = async () => {
      for (;;) {
        const { rows } = await janitor.admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.query LIKE '%may_have_landed = true%'`,
        );
        if (Number(rows[0]!.n) > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waiting();
    // ... then asks for the ones the journal holds: a cycle. The journal waited first, so its deadlock check fires first.
    const otherLocks = other.query(`SELECT id FROM "${schema}".meterkit_usage_records WHERE id = ANY($1) ORDER BY id DESC FOR UPDATE`, [ids.slice(0, -1)]);
    await otherLocks.then(() => other.query('COMMIT'), () => other.query('ROLLBACK'));
    await expect(journaled).resolves.toEqual(expect.arrayContaining(ids));
    const records = await store.listRecords({});
    expect(records.every((r) => r.attempts === 1 && r.mayHaveLanded)).toBe(true);
  } finally {
    other.release();
    await store.close();
  }
});
