import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite';
import { migrate } from '../../src/store/sqlite/schema';
import { prepareStatements } from '../../src/store/sqlite/statements';
import { claimRequest, delta, hour, licenseIdentity } from '../../src/store/conformance/fixtures';
import { turnsDuring } from '../support/event-loop-turns';

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

  /** A store holding `records` due records of distinct customers, all frozen already (a claim of none freezes them). */
  async function storeWithPendingRecords(file: string, records: number): Promise<SqliteStore> {
    const store = new SqliteStore({ path: path.join(directory, file) });
    await store.open();
    await store.addUsage(Array.from({ length: records }, (_, i) => delta({ customer: licenseIdentity(i + 1), hour: hour(0) })));
    await store.claim(claimRequest({ limit: 0 }));
    return store;
  }

  it('leases a claim of 500 in several transactions, letting the event loop run between them', async () => {
    const store = await storeWithPendingRecords('sub-claims.db', 600);
    try {
      const { value: claimed, turns } = await turnsDuring(() => store.claim(claimRequest({ limit: 500 })));
      // 100 records per transaction: five transactions, the event loop turning between two of them.
      expect(turns).toBeGreaterThanOrEqual(4);
      expect(claimed).toHaveLength(500);
      expect(new Set(claimed.map((r) => r.id)).size).toBe(500);
      const sorted = [...claimed].sort((a, b) => a.hour - b.hour || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      expect(claimed.map((r) => r.id)).toEqual(sorted.map((r) => r.id));
      expect(await store.listRecords({ states: ['pending'] })).toHaveLength(100);
    } finally {
      await store.close();
    }
  });

  it('answers each record once in a claim whose leases end at once (leaseMs 0)', async () => {
    const store = await storeWithPendingRecords('zero-lease.db', 150);
    try {
      const claimed = await store.claim(claimRequest({ limit: 500, leaseMs: 0 }));
      expect(new Set(claimed.map((r) => r.id)).size).toBe(claimed.length);
      expect(claimed.length).toBeGreaterThanOrEqual(100);
    } finally {
      await store.close();
    }
  });

  it('journals, settles and releases many records in several transactions, letting the event loop run between them', async () => {
    const store = await storeWithPendingRecords('sub-writes.db', 450);
    try {
      const claimed = await store.claim(claimRequest({ limit: 450 }));
      const ids = claimed.map((r) => r.id);
      const journal = await turnsDuring(() => store.journal(ids, 'worker-a', hour(10)));
      expect(journal.value).toEqual(ids);
      expect(journal.turns).toBeGreaterThanOrEqual(3);
      const settle = await turnsDuring(() =>
        store.settle(ids.slice(0, 300).map((id) => ({ id, state: 'sent' as const })), 'worker-a', hour(10)),
      );
      expect(settle.turns).toBeGreaterThanOrEqual(2);
      const release = await turnsDuring(() => store.release(ids.slice(300).map((id) => ({ id, nextAttemptAt: hour(11) })), 'worker-a'));
      expect(release.turns).toBeGreaterThanOrEqual(1);
      const stats = await store.stats();
      expect(stats.countsByState).toMatchObject({ sent: 300, pending: 150, sending: 0 });
    } finally {
      await store.close();
    }
  });

  it('leases each record to one of two connections claiming the same file at once, every record once', async () => {
    const file = 'two-connections.db';
    const first = await storeWithPendingRecords(file, 1_000);
    const second = new SqliteStore({ path: path.join(directory, file) });
    await second.open();
    try {
      const claims: Array<Promise<Array<{ id: string; leaseOwner?: string }>>> = [];
      for (let i = 0; i < 3; i++) {
        claims.push(first.claim(claimRequest({ owner: 'worker-a', limit: 250 })));
        claims.push(second.claim(claimRequest({ owner: 'worker-b', limit: 250 })));
      }
      const claimed = (await Promise.all(claims)).flat();
      expect(claimed).toHaveLength(1_000);
      expect(new Set(claimed.map((r) => r.id)).size).toBe(1_000);
      const stored = new Map((await first.listRecords()).map((r) => [r.id, r.leaseOwner]));
      for (const record of claimed) expect(stored.get(record.id)).toBe(record.leaseOwner);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
