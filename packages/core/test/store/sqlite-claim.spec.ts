import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite';
import { migrate } from '../../src/store/sqlite/schema';
import { prepareStatements } from '../../src/store/sqlite/statements';
import { claimRequest, delta, hour, licenseIdentity } from '../../src/store/conformance/fixtures';

let directory: string;
beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-claim-'));
});
afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

/** The query plan SQLite picks for a prepared statement, one line per step. */
function planOf(db: Database.Database, statement: unknown): string[] {
  const source = (statement as { source: string }).source;
  const params = Object.fromEntries([...source.matchAll(/@(\w+)/g)].map(([, name]) => [name, name === 'forced' ? '[]' : 0]));
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(params) as Array<{ detail: string }>;
  return rows.map((row) => row.detail);
}

describe('SqliteStore claims', () => {
  it('finds claimable records on indexes, without sorting every pending row', () => {
    const db = new Database(path.join(directory, 'plan.db'));
    try {
      migrate(db);
      const sql = prepareStatements(db);
      for (const statement of [sql.pendingClaimable, sql.dueOpenRecords]) {
        const plan = planOf(db, statement);
        expect(plan.join('\n')).toMatch(/USING (COVERING )?INDEX usage_records_by_state_hour_id/);
        expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
      }
      expect(planOf(db, sql.expiredLeases).join('\n')).toMatch(/INDEX usage_records_by_state_lease/);
      expect(planOf(db, sql.forcedClaimable).join('\n')).toMatch(/INDEX usage_records_by_customer/);
      expect(planOf(db, sql.forcedOpenRecords).join('\n')).toMatch(/INDEX usage_records_by_customer/);
    } finally {
      db.close();
    }
  });

  it('freezes many due records in slices, letting the event loop run between them', async () => {
    const store = new SqliteStore({ path: path.join(directory, 'slices.db') });
    await store.open();
    try {
      const deltas = [];
      for (let c = 1; c <= 40; c++) for (let h = 0; h < 25; h++) deltas.push(delta({ customer: licenseIdentity(c), hour: hour(h - 20) }));
      await store.addUsage(deltas);

      // 1000 due records, frozen 250 per transaction: a macrotask queued before the claim runs before it ends.
      let turned = false;
      setImmediate(() => (turned = true));
      const claimed = await store.claim(claimRequest({ limit: 10 }));
      expect(claimed).toHaveLength(10);
      expect(turned).toBe(true);
      const pending = await store.listRecords({ states: ['pending'] });
      expect(pending).toHaveLength(990);
      expect(pending.every((r) => r.frozen?.quantity === 1)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
