import type { Pool, PoolClient } from 'pg';
import { PostgresStore } from '../src';
import { SchemaJanitor, testPool } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);
const DUE = 20_000;
const NOT_DUE = 5_000;
/** The freeze's window: at most this many open records per step. */
const CHUNK = 1_000;

interface Step {
  text: string;
  /** Rows of the records table and entries of its indexes the statement read (PostgreSQL's transaction counters). */
  read: number;
}

/**
 * While `measuring.on`, every statement run through the pool's clients is bracketed by reads of the transaction's
 * own statistics counters on the same connection: what the statement read from the records table and its indexes,
 * whatever plan the server chose.
 */
function measureSteps(pool: Pool, records: () => string): { on: boolean; steps: Step[] } {
  const measuring = { on: false, steps: [] as Step[] };
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<{ rows: { read: string }[] }>;
    const readSoFar = async (): Promise<number> => {
      const { rows } = await query(
        `SELECT pg_stat_get_xact_tuples_returned($1::regclass)
                + coalesce((SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) FROM pg_index WHERE indrelid = $1::regclass), 0) AS read`,
        [records()],
      );
      return Number(rows[0]!.read);
    };
    // The pool's own query() passes a callback: those calls (outside a claim) go through untouched.
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const [text, values] = args as [string, unknown[] | undefined];
      const measured = measuring.on && typeof text === 'string' && /^\s*(SELECT|UPDATE|WITH)/.test(text) && !args.some((arg) => typeof arg === 'function');
      if (!measured) return (query as (...a: unknown[]) => unknown)(...args);
      return (async () => {
        const before = await readSoFar();
        const result = await query(text, values);
        measuring.steps.push({ text, read: (await readSoFar()) - before });
        return result;
      })();
    };
  });
  return measuring;
}

/**
 * Open records of a due hour with their allocation, then open records of the current hour (not due) after them in
 * id order. The table's statistics are those of the empty table, as when a burst of writes outruns autovacuum.
 */
async function fill(schema: string, now: number): Promise<void> {
  const records = `"${schema}".meterkit_usage_records`;
  await janitor.admin.query(`ALTER TABLE ${records} SET (autovacuum_enabled = false)`);
  await janitor.admin.query(`ANALYZE ${records}`);
  const customer = JSON.stringify({ kind: 'product', productCode: 'prod-pg' });
  await janitor.admin.query(
    `INSERT INTO ${records} (id, customer_key, product_code, customer, dimension, hour, state, quantity, source)
     SELECT 'o' || lpad(i::text, 8, '0'), 'c' || (i % 1000), 'prod-pg', $1, 'api_calls', $2::bigint, 'open', i, 'metered'
     FROM generate_series(1, ${DUE}) AS i`,
    [customer, HOUR],
  );
  await janitor.admin.query(
    `INSERT INTO "${schema}".meterkit_usage_allocations (record_id, tags_key, quantity)
     SELECT 'o' || lpad(i::text, 8, '0'), ''::bytea, i FROM generate_series(1, ${DUE}) AS i`,
  );
  await janitor.admin.query(
    `INSERT INTO ${records} (id, customer_key, product_code, customer, dimension, hour, state, quantity, source)
     SELECT 'z' || lpad(i::text, 8, '0'), 'c' || (i % 1000), 'prod-pg', $1, 'api_calls', $2::bigint, 'open', 1, 'metered'
     FROM generate_series(1, ${NOT_DUE}) AS i`,
    [customer, Math.floor(now / 3_600_000) * 3_600_000],
  );
}

describe('PostgresStore freeze steps with many open records', () => {
  const schema = janitor.fresh('freeze');
  const pool = testPool(2);
  const measuring = measureSteps(pool, () => `"${schema}".meterkit_usage_records`);
  const store = new PostgresStore({ pool, schema });
  const now = HOUR + 3 * 3_600_000;

  beforeAll(async () => {
    await store.open();
    await fill(schema, now);
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
  });

  it('reads a bounded window of open records per step, never every open record, and freezes each due record once', async () => {
    measuring.on = true;
    const claimed = await store.claim({ now, dueBefore: Math.floor(now / 3_600_000) * 3_600_000, owner: 'a', leaseMs: 60_000, limit: 10 });
    measuring.on = false;
    expect(claimed.map((record) => record.id)).toEqual(Array.from({ length: 10 }, (_, i) => `o${String(i + 1).padStart(8, '0')}`));
    // Steps of the freeze (and the lease after it) each read about one window: with every step reading all open
    // records left, freezing N records read N²/2000 rows. Twice the window leaves room for the plan's choice.
    expect(measuring.steps.length).toBeGreaterThan(DUE / CHUNK);
    const longSteps = measuring.steps.filter((step) => step.read > 2 * CHUNK);
    expect(longSteps.map((step) => ({ statement: step.text.replace(/\s+/g, ' ').slice(0, 120), read: step.read }))).toEqual([]);

    const frozen = await store.listRecords({ states: ['pending', 'sending'] });
    expect(frozen).toHaveLength(DUE);
    for (const record of frozen) expect(record.frozen?.quantity).toBe(record.quantity);
    expect(frozen.reduce((sum, record) => sum + record.quantity, 0)).toBe((DUE * (DUE + 1)) / 2);
    const open = await store.listRecords({ states: ['open'] });
    expect(open).toHaveLength(NOT_DUE);
    expect(open.every((record) => record.id.startsWith('z'))).toBe(true);
  });
});
