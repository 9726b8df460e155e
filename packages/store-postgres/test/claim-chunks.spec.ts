import type { UsageDelta } from '@meterkit/core';
import type { Pool, QueryConfig } from 'pg';
import { PostgresStore } from '../src';
import { SchemaJanitor, testPool } from './support/database';
import { licenseDelta } from './support/license-delta';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);

function delta(n: number): UsageDelta {
  return licenseDelta(n, HOUR, n + 1);
}

/** The most rows any statement run through the pool's clients returned. */
function largestResult(pool: Pool): { rows: number } {
  const largest = { rows: 0 };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<{ rows?: unknown[] }>;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const result = query(...(args as [QueryConfig]));
      if (result && typeof result.then === 'function') {
        void result.then((r) => (largest.rows = Math.max(largest.rows, r?.rows?.length ?? 0)), () => undefined);
      }
      return result;
    };
  });
  return largest;
}

it('freezes many due records in chunks, each with its own quantity, and claims them all exactly once', async () => {
  const pool = testPool(2);
  const largest = largestResult(pool);
  const store = new PostgresStore({ pool, schema: janitor.fresh('chunks') });
  try {
    await store.open();
    const records = 2_500;
    for (let start = 0; start < records; start += 500) {
      await store.addUsage(Array.from({ length: 500 }, (_, i) => delta(start + i)));
    }
    largest.rows = 0;
    const now = HOUR + 2 * 3_600_000;
    const claimed = await store.claim({ now, dueBefore: now, owner: 'a', leaseMs: 60_000, limit: 10 });
    expect(claimed).toHaveLength(10);
    // No statement of the claim brought back all 2,500 due records: they were frozen 1,000 at a time.
    expect(largest.rows).toBeLessThanOrEqual(1_000);
    const pending = await store.listRecords({ states: ['pending', 'sending'] });
    expect(pending).toHaveLength(records);
    for (const record of pending) expect(record.frozen?.quantity).toBe(record.quantity);
    expect(pending.reduce((sum, r) => sum + r.quantity, 0)).toBe((records * (records + 1)) / 2);
  } finally {
    await store.close();
    await pool.end();
  }
}, 120_000);
