import { setTimeout as sleep } from 'node:timers/promises';
import { createMetering, silentLogger, type CustomerIdentity, type Metering } from '@meterkit/core';
import { Client } from 'pg';
import { PostgresStore } from '../src';
import { startBlackHole, type BlackHole } from '../../../tools/testing/black-hole/black-hole';
import { PG_URL, SchemaJanitor } from './support/database';

const PRODUCT = 'prod-pghung';
const CUSTOMER: CustomerIdentity = {
  kind: 'license',
  licenseArn: 'arn:aws:license-manager::123456789012:license:l-pghung',
  customerAwsAccountId: '123456789012',
  productCode: PRODUCT,
};

function engine(store: PostgresStore): Metering {
  return createMetering({
    products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }],
    store,
    aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => Date.parse('2026-07-15T10:20:00Z'),
    logger: silentLogger,
    autoStart: false,
    durability: 'sync',
    storeTimeoutMs: 300,
  });
}

/** Persists until nothing is left in memory: the store is back once a write goes through. */
async function persistOnceBack(metering: Metering): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const ok = await metering.persist().then(
      () => true,
      () => false,
    );
    if (ok && (await metering.status()).inMemory === 0) return;
    await sleep(50);
  }
  throw new Error('the store did not come back');
}

describe('PostgreSQL store that hangs: requests are answered, usage is stored exactly once when it is back', () => {
  const janitor = new SchemaJanitor();
  let proxy: BlackHole | undefined;
  const engines: Metering[] = [];
  const stores: PostgresStore[] = [];

  beforeAll(() => janitor.assertServerAnswers());
  afterEach(async () => {
    for (const metering of engines.splice(0)) await metering.close().catch(() => undefined);
    for (const store of stores.splice(0)) await store.close().catch(() => undefined);
    await proxy?.shutdown();
    proxy = undefined;
  });
  afterAll(() => janitor.dropAll());

  async function storedTotal(schema: string): Promise<number> {
    const { rows } = await janitor.admin.query<{ total: string | null }>(`SELECT sum(quantity) AS total FROM "${schema}".meterkit_usage_records`);
    return Number(rows[0]?.total ?? 0);
  }

  function open(options: ConstructorParameters<typeof PostgresStore>[0]): { store: PostgresStore; metering: Metering } {
    const store = new PostgresStore(options);
    const metering = engine(store);
    stores.push(store);
    engines.push(metering);
    return { store, metering };
  }

  it('a table locked by another session: commits and status() are answered, the blocked write is not counted twice', async () => {
    const schema = janitor.fresh('hung_lock');
    const { metering } = open({ connectionString: PG_URL, schema, statementTimeoutMs: 3000 });
    await metering.meter(CUSTOMER).record('api_calls', 2).commit();
    // On a busy machine opening the schema can outlast the bound: the commit then resolved with its usage queued.
    await persistOnceBack(metering);
    expect(await storedTotal(schema)).toBe(2);

    const locker = new Client({ connectionString: PG_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".meterkit_usage_records IN ACCESS EXCLUSIVE MODE`);
      await metering.meter(CUSTOMER).record('api_calls', 3).commit();
      await metering.meter(CUSTOMER).record('api_calls', 4).commit();
      const during = await metering.status();
      expect(during.storeError?.code).toBe('ERR_METERKIT_STORE');
      expect(during.inMemory).toBeGreaterThan(0);
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }

    await persistOnceBack(metering);
    expect(await storedTotal(schema)).toBe(9);
  });

  it('statement_timeout cancels a write blocked on a held lock', async () => {
    const schema = janitor.fresh('hung_stmt');
    const store = new PostgresStore({ connectionString: PG_URL, schema, statementTimeoutMs: 200 });
    stores.push(store);
    await store.open();
    const locker = new Client({ connectionString: PG_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${schema}".meterkit_usage_records IN ACCESS EXCLUSIVE MODE`);
      const delta = { customer: CUSTOMER, customerKey: 'k', productCode: PRODUCT, dimension: 'api_calls', hour: Date.parse('2026-07-15T10:00:00Z'), quantity: 1, tagsKey: '' };
      await expect(store.addUsage([delta], 'batch-blocked')).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE', details: { pgCode: '57014' } });
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
  });

  it('a black-holed connection: commits and status() are answered, the client gives up on it, usage lands once healed', async () => {
    const target = new URL(PG_URL);
    proxy = await startBlackHole(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(PG_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const schema = janitor.fresh('hung_net');
    const { store, metering } = open({ connectionString: viaProxy.toString(), schema, queryTimeoutMs: 1000, connectionTimeoutMs: 1000, statementTimeoutMs: 500 });
    await metering.meter(CUSTOMER).record('api_calls', 2).commit();
    // On a busy machine opening the schema can outlast the bound: the commit then resolved with its usage queued.
    await persistOnceBack(metering);
    expect(await storedTotal(schema)).toBe(2);

    proxy.blackHole();
    await metering.meter(CUSTOMER).record('api_calls', 3).commit();
    await metering.meter(CUSTOMER).record('api_calls', 4).commit();
    expect((await metering.status()).storeError?.code).toBe('ERR_METERKIT_STORE');
    // Without the engine's bound, the store's own: the query and connection timeouts end the wait.
    await expect(store.stats()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    await expect(store.listCustomers()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });

    proxy.heal();
    await persistOnceBack(metering);
    expect(await storedTotal(schema)).toBe(9);
  });

  it('validates the timeouts, and refuses them with a pool of your own', () => {
    expect(() => new PostgresStore({ connectionString: PG_URL, statementTimeoutMs: -1 })).toThrow(/statementTimeoutMs/);
    expect(() => new PostgresStore({ connectionString: PG_URL, queryTimeoutMs: 1.5 })).toThrow(/queryTimeoutMs/);
    expect(() => new PostgresStore({ pool: janitor.admin, connectionTimeoutMs: 100 })).toThrow(/set them on it/);
  });
});
