import type { Pool, PoolClient } from 'pg';
import { PostgresStore } from '../src';
import { SchemaJanitor, testPool } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);
const PENDING = 20_000;
const OPEN = 20_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
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
 * Every statement that locks rows (`FOR UPDATE`) run through the pool's clients is first explained on the same
 * connection, inside the same transaction, with the same parameters: the plan the server chose for that moment.
 */
function explainLockingStatements(pool: Pool): ExplainedStatement[] {
  const explained: ExplainedStatement[] = [];
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>;
    (client as unknown as { query: unknown }).query = async (text: string, values?: unknown[]) => {
      if (typeof text === 'string' && text.includes('FOR UPDATE')) {
        const { rows } = await query(`EXPLAIN (FORMAT JSON) ${text}`, values);
        explained.push({ text, nodes: flatten(rows[0]!['QUERY PLAN'][0].Plan) });
      }
      return query(text, values);
    };
  });
  return explained;
}

/** Pending records spread over 50 hours and 1,000 customers, and open records of a due hour with their allocation. */
async function fill(schema: string): Promise<void> {
  const records = `"${schema}".meterkit_usage_records`;
  const customer = JSON.stringify({ kind: 'product', productCode: 'prod-pg' });
  await janitor.admin.query(
    `INSERT INTO ${records} (id, customer_key, product_code, customer, dimension, hour, state, quantity, frozen, frozen_quantity, source, next_attempt_at)
     SELECT 'p' || lpad(i::text, 8, '0'), 'c' || (i % 1000), 'prod-pg', $1, 'api_calls', $2::bigint + (i % 50) * 3600000, 'pending', 1,
            '{"quantity":1,"allocations":[]}', 1, 'metered', 0
     FROM generate_series(1, ${PENDING}) AS i`,
    [customer, HOUR],
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
  await janitor.admin.query(`ANALYZE ${records}`);
}

describe('PostgresStore claim plans with many records waiting', () => {
  const schema = janitor.fresh('plan');
  const pool = testPool(2);
  const explained = explainLockingStatements(pool);
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

  it('freezes due records and leases the oldest pending ones by walking indexes, without sorting all of them', async () => {
    const claimed = await store.claim({ now, dueBefore: now, owner: 'a', leaseMs: 60_000, limit: 500 });
    expect(claimed).toHaveLength(500);
    // 400 records per hour: the oldest hour's, then the next hour's in id order.
    expect(claimed.map((record) => record.hour)).toEqual([...Array(400).fill(HOUR), ...Array(100).fill(HOUR + 3_600_000)]);
    expect(explained.length).toBeGreaterThan(1);
    for (const statement of explained) {
      expect({ text: statement.text, sorts: statement.nodes.filter((node) => node['Node Type'] === 'Sort').length }).toEqual({ text: statement.text, sorts: 0 });
      expect(statement.nodes.some((node) => node['Node Type'] === 'Seq Scan')).toBe(false);
    }
    const leases = explained.filter((statement) => statement.text.includes('SKIP LOCKED'));
    expect(leases).toHaveLength(1);
    expect(leases[0]!.nodes.some((node) => node['Index Name'] === 'meterkit_usage_records_claimable')).toBe(true);
  });

  it('takes a forced customer\'s records first through the customer index, then the others by walking the claimable index', async () => {
    const claimed = await store.claim({ now, dueBefore: now, owner: 'b', leaseMs: 60_000, limit: 100, forceCustomerKeys: ['c7'] });
    expect(claimed).toHaveLength(100);
    // c7 has 20 pending records and 20 the first test froze: all of them first, then the oldest of the others.
    expect(claimed.slice(0, 40).every((record) => record.customerKey === 'c7')).toBe(true);
    expect(claimed.slice(40).some((record) => record.customerKey === 'c7')).toBe(false);
    expect(claimed.slice(40).every((record) => record.hour === HOUR + 3_600_000)).toBe(true);
    const leases = explained.filter((statement) => statement.text.includes('SKIP LOCKED'));
    expect(leases.length).toBeGreaterThanOrEqual(1);
    for (const statement of leases) {
      expect(statement.nodes.some((node) => node['Node Type'] === 'Seq Scan')).toBe(false);
      const sorted = statement.nodes.some((node) => node['Node Type'] === 'Sort');
      // A sort is allowed only over the forced customers' own records, found through the customer index.
      if (sorted) expect(statement.nodes.some((node) => node['Index Name'] === 'meterkit_usage_records_by_customer')).toBe(true);
    }
  });
});
