import type { Pool, PoolClient } from 'pg';
import { PostgresStore } from '../src';
import { SchemaJanitor, testPool } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);
const PENDING = 20_000;
const OPEN = 20_000;
const SENDING = 20_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

interface ExplainedStatement {
  text: string;
  nodes: PlanNode[];
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

/**
 * Every statement of the records table that locks or freezes rows (`FOR UPDATE`, the freeze's windows and updates)
 * run through the pool's clients is first explained on the same connection, inside the same transaction, with the
 * same parameters: the plan the server chose for that moment.
 */
function explainClaimStatements(pool: Pool): ExplainedStatement[] {
  const explained: ExplainedStatement[] = [];
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>;
    (client as unknown as { query: unknown }).query = async (text: string, values?: unknown[]) => {
      if (typeof text === 'string' && (text.includes('FOR UPDATE') || text.includes('open_window') || text.includes("SET state = 'pending', frozen"))) {
        const { rows } = await query(`EXPLAIN (FORMAT JSON) ${text}`, values);
        explained.push({ text, nodes: flatten(rows[0]!['QUERY PLAN'][0].Plan) });
      }
      return query(text, values);
    };
  });
  return explained;
}

/**
 * Pending records spread over 50 hours and 1,000 customers; records being sent (leased, as by earlier claims) in the
 * hours before them; 10 records whose lease expired; open records of a due hour with their allocation. The table's
 * statistics are those of the empty table, as when a burst of writes or a claim outruns autovacuum.
 */
async function fill(schema: string): Promise<void> {
  const records = `"${schema}".meterkit_usage_records`;
  await janitor.admin.query(`ALTER TABLE ${records} SET (autovacuum_enabled = false)`);
  await janitor.admin.query(`ANALYZE ${records}`);
  const customer = JSON.stringify({ kind: 'product', productCode: 'prod-pg' });
  await janitor.admin.query(
    `INSERT INTO ${records} (id, customer_key, product_code, customer, dimension, hour, state, quantity, frozen, frozen_quantity, source, next_attempt_at)
     SELECT 'p' || lpad(i::text, 8, '0'), 'c' || (i % 1000), 'prod-pg', $1, 'api_calls', $2::bigint + (i % 50) * 3600000, 'pending', 1,
            '{"quantity":1,"allocations":[]}', 1, 'metered', 0
     FROM generate_series(1, ${PENDING}) AS i`,
    [customer, HOUR],
  );
  await janitor.admin.query(
    `INSERT INTO ${records} (id, customer_key, product_code, customer, dimension, hour, state, quantity, frozen, frozen_quantity, source,
                             next_attempt_at, lease_owner, lease_until)
     SELECT CASE WHEN i <= 10 THEN 'e' ELSE 's' END || lpad(i::text, 8, '0'), 'x' || (i % 1000), 'prod-pg', $1, 'api_calls',
            CASE WHEN i <= 10 THEN $2::bigint + 3600000 ELSE $2::bigint - (1 + i % 50) * 3600000 END, 'sending', 1,
            '{"quantity":1,"allocations":[]}', 1, 'metered', 0, 'earlier', CASE WHEN i <= 10 THEN 0 ELSE $3::bigint END
     FROM generate_series(1, ${SENDING}) AS i`,
    [customer, HOUR, HOUR + 1000 * 3_600_000],
  );
  await janitor.admin.query(
    `INSERT INTO ${records} (id, customer_key, product_code, customer, dimension, hour, state, quantity, source)
     SELECT 'o' || lpad(i::text, 8, '0'), 'c' || (i % 1000), 'prod-pg', $1, 'api_calls', $2::bigint + 60 * 3600000, 'open', 1, 'metered'
     FROM generate_series(1, ${OPEN}) AS i`,
    [customer, HOUR],
  );
  await janitor.admin.query(
    `INSERT INTO "${schema}".meterkit_usage_allocations (record_id, tags_key, quantity)
     SELECT 'o' || lpad(i::text, 8, '0'), ''::bytea, 1 FROM generate_series(1, ${OPEN}) AS i`,
  );
}

describe('PostgresStore claim plans with many records waiting', () => {
  const schema = janitor.fresh('plan');
  const pool = testPool(2);
  const explained = explainClaimStatements(pool);
  const store = new PostgresStore({ pool, schema });
  const now = HOUR + 100 * 3_600_000;

  beforeAll(async () => {
    await store.open();
    await fill(schema);
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
  });
  beforeEach(() => {
    explained.length = 0;
  });

  /**
   * The index each scan of the records table under a Sort reads (a bitmap scan: its bitmap's), undefined for a
   * sequential scan: a sort may only order what the lease index or the customer index found.
   */
  function sortedScans(statement: ExplainedStatement): { 'Index Name'?: string }[] {
    return statement.nodes
      .filter((node) => node['Node Type'] === 'Sort')
      .flatMap((sort) => flatten(sort).filter((node) => node['Relation Name'] !== undefined))
      .flatMap((scan) =>
        scan['Node Type'] === 'Bitmap Heap Scan' ? flatten(scan).filter((node) => node['Node Type'] === 'Bitmap Index Scan') : [scan],
      );
  }

  /** The scans of the records table in a statement (the update's target is not a scan). */
  function recordScans(statement: ExplainedStatement): PlanNode[] {
    return statement.nodes.filter((node) => node['Relation Name'] === 'meterkit_usage_records' && node['Node Type'].endsWith('Scan'));
  }

  it('freezes due records and leases the oldest claimable ones by walking indexes, never sorting or walking all of them', async () => {
    const claimed = await store.claim({ now, dueBefore: now, owner: 'a', leaseMs: 60_000, limit: 500 });
    // 400 pending records per hour: the oldest hour's, then the next hour's in id order, the 10 expired leases among them.
    expect(claimed.map((record) => record.hour)).toEqual([...Array(400).fill(HOUR), ...Array(100).fill(HOUR + 3_600_000)]);
    expect(claimed.slice(400, 410).map((record) => record.id)).toEqual(Array.from({ length: 10 }, (_, i) => `e${String(i + 1).padStart(8, '0')}`));
    expect(explained.length).toBeGreaterThan(1);
    for (const statement of explained) {
      expect({ text: statement.text, seqScans: statement.nodes.filter((node) => node['Node Type'] === 'Seq Scan').length }).toEqual({ text: statement.text, seqScans: 0 });
      for (const scan of sortedScans(statement)) expect(['meterkit_usage_records_leases', 'meterkit_usage_records_by_customer']).toContain(scan['Index Name']);
    }
    const freezes = explained.filter((statement) => !statement.text.includes('SKIP LOCKED'));
    // 20 windows of 1,000 open records: the window's bound, its due records locked, their snapshots stored.
    expect(freezes.filter((statement) => statement.text.includes('open_window')).length).toBeGreaterThanOrEqual(OPEN / 1000);
    expect(freezes.filter((statement) => statement.text.includes("SET state = 'pending', frozen")).length).toBe(OPEN / 1000);
    for (const freeze of freezes) {
      expect(freeze.nodes.some((node) => node['Index Name'] === 'meterkit_usage_records_open')).toBe(true);
      // Each step reads its window of the open records' index, never every open record (the whole freeze would
      // then read the square of the due records): the window's bound stops at its LIMIT without skipping rows,
      // the lock and the update read the window's id range or look rows up by id within it.
      for (const scan of recordScans(freeze)) {
        const bounded = freeze.text.includes('open_window')
          ? freeze.nodes.some((node) => node['Node Type'] === 'Limit') && scan.Filter === undefined
          : /\bid > .*\bid <= /.test(scan['Index Cond'] ?? '');
        expect({ text: freeze.text, scan: scan['Node Type'], index: scan['Index Name'], cond: scan['Index Cond'], bounded }).toEqual({
          text: freeze.text,
          scan: scan['Node Type'],
          index: scan['Index Name'],
          cond: scan['Index Cond'],
          bounded: true,
        });
      }
    }
    const leases = explained.filter((statement) => statement.text.includes('SKIP LOCKED'));
    expect(leases).toHaveLength(1);
    const indexes = leases[0]!.nodes.map((node) => node['Index Name']);
    expect(indexes).toEqual(expect.arrayContaining(['meterkit_usage_records_pending', 'meterkit_usage_records_leases']));
  });

  it('takes a forced customer\'s records first, then the others by walking the indexes', async () => {
    const claimed = await store.claim({ now, dueBefore: now, owner: 'b', leaseMs: 60_000, limit: 100, forceCustomerKeys: ['c7'] });
    expect(claimed).toHaveLength(100);
    // c7 has 20 pending records and 20 the first test froze: all of them first, then the oldest of the others.
    expect(claimed.slice(0, 40).every((record) => record.customerKey === 'c7')).toBe(true);
    expect(claimed.slice(40).some((record) => record.customerKey === 'c7')).toBe(false);
    expect(claimed.slice(40).every((record) => record.hour === HOUR + 3_600_000)).toBe(true);
    // The forced customer's records first (their plan is the planner's choice: few records), then everyone else's.
    const leases = explained.filter((statement) => statement.text.includes('SKIP LOCKED'));
    expect(leases).toHaveLength(2);
    const others = leases[1]!;
    expect(others.nodes.some((node) => node['Node Type'] === 'Seq Scan')).toBe(false);
    for (const scan of sortedScans(others)) expect(['meterkit_usage_records_leases', 'meterkit_usage_records_by_customer']).toContain(scan['Index Name']);
    expect(others.nodes.map((node) => node['Index Name'])).toEqual(expect.arrayContaining(['meterkit_usage_records_pending', 'meterkit_usage_records_leases']));
  });
});
