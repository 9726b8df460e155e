import { ErrorCodes, customerKey, isMeterkitError, tagsKey } from '@meterkit/core';
import type { UsageDelta } from '@meterkit/core';
import { PostgresStore, SCHEMA_VERSION } from '../src';
import { PG_URL, SchemaJanitor, testPool } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);
const customer = {
  kind: 'license' as const,
  licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001',
  customerAwsAccountId: '100000000001',
  productCode: 'prod-pg',
};

function delta(quantity: number, team?: string): UsageDelta {
  const tags = team === undefined ? undefined : { team };
  return {
    customer,
    customerKey: customerKey(customer),
    productCode: customer.productCode,
    dimension: 'api_calls',
    hour: HOUR,
    tagsKey: tagsKey(tags),
    ...(tags === undefined ? {} : { tags }),
    quantity,
  };
}

const storeOn = (schema: string) => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });

describe('PostgresStore schema', () => {
  it('creates its schema once when several instances open at the same time', async () => {
    const schema = janitor.fresh('open');
    const stores = Array.from({ length: 4 }, () => storeOn(schema));
    try {
      await Promise.all(stores.map((store) => store.open()));
      const { rows } = await janitor.admin.query(`SELECT value FROM "${schema}".meterkit_meta WHERE key = 'schema_version'`);
      expect(rows).toEqual([{ value: String(SCHEMA_VERSION) }]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('refuses a schema written by a newer meterkit, changing nothing', async () => {
    const schema = janitor.fresh('newer');
    const first = storeOn(schema);
    await first.open();
    await first.close();
    await janitor.admin.query(`UPDATE "${schema}".meterkit_meta SET value = $1 WHERE key = 'schema_version'`, [String(SCHEMA_VERSION + 1)]);
    const store = storeOn(schema);
    try {
      const error = await store.open().catch((e: unknown) => e);
      expect(isMeterkitError(error, ErrorCodes.STORE_SCHEMA)).toBe(true);
      expect((error as Error).message).toContain('upgrade meterkit');
    } finally {
      await store.close();
    }
  });
});

describe('PostgresStore migration of the may-have-landed flag', () => {
  it('keeps records journaled before the flag existed as possibly at AWS, and others not', async () => {
    const schema = janitor.fresh('landed');
    const first = storeOn(schema);
    await first.open();
    await first.addUsage([delta(1), { ...delta(2), dimension: 'gb_processed' }]);
    const claimed = await first.claim({ now: HOUR + 7_200_000, dueBefore: HOUR + 3_600_000, owner: 'o', leaseMs: 60_000, limit: 10 });
    const journaled = claimed.find((record) => record.dimension === 'api_calls')!.id;
    await first.journal([journaled], 'o', HOUR + 7_200_001);
    await first.close();
    // Back to schema version 2: without the columns and tables that migration 3 and later ones added.
    await janitor.admin.query(`ALTER TABLE "${schema}".meterkit_usage_records DROP COLUMN may_have_landed`);
    await janitor.admin.query(`ALTER TABLE "${schema}".meterkit_customers DROP COLUMN IF EXISTS version`);
    await janitor.admin.query(`DROP TABLE IF EXISTS "${schema}".meterkit_entitlements, "${schema}".meterkit_allowance_counters`);
    await janitor.admin.query(`DROP INDEX IF EXISTS "${schema}".meterkit_usage_records_pending, "${schema}".meterkit_usage_records_leases, "${schema}".meterkit_usage_records_open`);
    await janitor.admin.query(`UPDATE "${schema}".meterkit_meta SET value = '2' WHERE key = 'schema_version'`);

    const store = storeOn(schema);
    try {
      await store.open();
      const flags = (await store.listRecords()).map((record) => [record.dimension, record.attempts, record.mayHaveLanded]);
      expect(flags.sort()).toEqual([
        ['api_calls', 1, true],
        ['gb_processed', 0, false],
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('PostgresStore usage', () => {
  it('adds concurrent increments from several handles exactly, tagged or not', async () => {
    const schema = janitor.fresh('incr');
    const stores = Array.from({ length: 3 }, () => storeOn(schema));
    try {
      await Promise.all(stores.map((store) => store.open()));
      const writes = stores.flatMap((store, s) =>
        Array.from({ length: 20 }, (_, i) => store.addUsage([delta(1 + s), delta(2, i % 2 === 0 ? 'a' : 'b'), delta(1)])),
      );
      await Promise.all(writes);
      const [claimed] = await stores[0]!.claim({ now: HOUR + 7_200_000, dueBefore: HOUR + 3_600_000, owner: 'o', leaseMs: 60_000, limit: 10 });
      // Untagged: 20 × (1 + 2 + 3) + 60 × 1; tagged: 30 × 2 per team.
      expect(claimed?.frozen).toStrictEqual({
        quantity: 300,
        allocations: [{ quantity: 180 }, { tags: { team: 'a' }, quantity: 60 }, { tags: { team: 'b' }, quantity: 60 }],
      });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('rejects unstorable usage before writing anything', async () => {
    const store = storeOn(janitor.fresh('bad'));
    try {
      await store.open();
      const error = await store.addUsage([delta(1), delta(-1)]).catch((e: unknown) => e);
      expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
      await expect(store.listRecords()).resolves.toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('PostgresStore options', () => {
  it('uses a pool it is given and leaves it open on close', async () => {
    const pool = testPool(2);
    const store = new PostgresStore({ pool, schema: janitor.fresh('pool') });
    try {
      await store.open();
      await store.addUsage([delta(4)]);
      await store.close();
      await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await pool.end();
    }
  });

  it.each([
    ['no connection', {}],
    ['both a pool and a connection string', { pool: testPoolForOptions(), connectionString: PG_URL }],
    ['an empty schema', { connectionString: PG_URL, schema: '' }],
    ['a schema name PostgreSQL would truncate', { connectionString: PG_URL, schema: 'x'.repeat(64) }],
    ['a pool of no connections', { connectionString: PG_URL, maxConnections: 0 }],
  ])('refuses %s', (_, options) => {
    expect(() => new PostgresStore(options)).toThrow(expect.objectContaining({ code: ErrorCodes.OPTIONS }));
  });
});

/** A pool that never connects: only its shape is checked. */
function testPoolForOptions() {
  return { connect: () => undefined, query: () => undefined, end: () => undefined } as never;
}
