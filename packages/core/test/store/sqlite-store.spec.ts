import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, isMeterkitError } from '../../src/errors';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite';
import type { UsageStore } from '../../src/store/usage-store';
import { claimRequest, customerRecord, delta, hour, idOf, licenseIdentity } from '../../src/store/conformance/fixtures';
import { describeUsageStoreConformance } from '../../src/testing';

const directories = new Set<string>();

function freshPath(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-'));
  directories.add(directory);
  return path.join(directory, 'meterkit.db');
}

function removeDirectories(): void {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
  directories.clear();
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describeUsageStoreConformance('SqliteStore', () => new SqliteStore({ path: freshPath() }), {
  cleanup: removeDirectories,
  sharedStoreFactory: async () => {
    const file = freshPath();
    return [new SqliteStore({ path: file }), new SqliteStore({ path: file })];
  },
});

describe('SqliteStore', () => {
  const opened: UsageStore[] = [];
  const raw: Database.Database[] = [];

  async function openStore(file: string): Promise<SqliteStore> {
    const store = new SqliteStore({ path: file });
    opened.push(store);
    await store.open();
    return store;
  }

  function rawDatabase(file: string): Database.Database {
    const db = new Database(file);
    raw.push(db);
    return db;
  }

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    for (const db of raw.splice(0)) db.close();
    removeDirectories();
  });

  it('is durable', () => {
    const store = new SqliteStore({ path: freshPath() });
    expect(store.kind).toBe('sqlite');
    expect(store.durable).toBe(true);
  });

  it('keeps usage, attempts and customers across close and reopen', async () => {
    const file = freshPath();
    const first = await openStore(file);
    await first.addUsage([delta({ quantity: 3, tags: { team: 'a' } }), delta({ quantity: 4, hour: hour(11) })]);
    const [claimed] = await first.claim(claimRequest({ owner: 'a' }));
    await first.journal([idOf()], 'a', hour(10) + 1);
    await first.putCustomer(customerRecord(licenseIdentity(1), { tenantId: 'tenant-1' }));
    const before = await first.listRecords();
    await first.close();

    const second = await openStore(file);
    await expect(second.listRecords()).resolves.toEqual(before);
    expect((await second.listRecords())[0]).toMatchObject({ frozen: claimed?.frozen, attempts: 1, leaseOwner: 'a' });
    await expect(second.findCustomerByTenant('tenant-1')).resolves.toEqual(
      customerRecord(licenseIdentity(1), { tenantId: 'tenant-1', version: 1 }),
    );
  });

  it('runs in WAL mode and records its schema version', async () => {
    const file = freshPath();
    await openStore(file);
    const db = rawDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: SCHEMA_VERSION });
  });

  it('refuses a database written by a newer schema, and leaves it untouched', async () => {
    const file = freshPath();
    const store = await openStore(file);
    await store.addUsage([delta()]);
    await store.close();
    rawDatabase(file).prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(SCHEMA_VERSION + 1);

    const error = await errorOf(new SqliteStore({ path: file }).open());
    expect(isMeterkitError(error, ErrorCodes.STORE_SCHEMA)).toBe(true);
    const db = rawDatabase(file);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: SCHEMA_VERSION + 1 });
    expect(db.prepare('SELECT count(*) AS n FROM usage_records').get()).toEqual({ n: 1 });
  });

  it('opens an existing database again without migrating it twice', async () => {
    const file = freshPath();
    await (await openStore(file)).close();
    const store = await openStore(file);
    await store.open();
    await expect(store.listRecords()).resolves.toEqual([]);
  });

  it('rolls a whole batch back when a statement fails midway', async () => {
    const file = freshPath();
    const store = await openStore(file);
    await store.addUsage([delta({ quantity: 1 })]);
    rawDatabase(file).exec(`
      CREATE TRIGGER fail_on_boom BEFORE INSERT ON usage_allocations WHEN NEW.tags_key = 'boom'
      BEGIN SELECT RAISE(ABORT, 'boom'); END`);
    const batch = [
      delta({ quantity: 2 }),
      delta({ quantity: 5, hour: hour(1) }),
      { ...delta({ quantity: 7, hour: hour(2) }), tagsKey: 'boom' },
    ];

    const error = await errorOf(store.addUsage(batch));
    expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
    expect(await store.listRecords()).toEqual([expect.objectContaining({ id: idOf(), quantity: 1 })]);
    const allocations = rawDatabase(file).prepare('SELECT record_id, quantity FROM usage_allocations').all();
    expect(allocations).toEqual([{ record_id: idOf(), quantity: 1 }]);
  });

  it('stores none of a batch holding a quantity no store can keep', async () => {
    const store = await openStore(freshPath());
    await store.addUsage([delta({ quantity: 1 })]);
    for (const quantity of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await errorOf(store.addUsage([delta({ quantity: 2 }), delta({ quantity, hour: hour(1) })]));
      expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
    }
    expect((await store.listRecords()).map((record) => record.quantity)).toEqual([1]);
  });

  it('lets its schema reject what it cannot hold', async () => {
    const file = freshPath();
    await openStore(file);
    const db = rawDatabase(file);
    const insert = db.prepare(`
      INSERT INTO usage_records (id, customer_key, product_code, customer, dimension, hour, state, quantity, source)
      VALUES ('x', 'k', 'p', '{}', 'd', 0, 'open', ?, 'metered')`);
    expect(() => insert.run(1.5)).toThrow();
    expect(() => insert.run(-1)).toThrow();
  });

  it('migrates a database from before the may-have-landed flag: journaled records stay possibly at AWS', async () => {
    const file = freshPath();
    const store = await openStore(file);
    await store.addUsage([delta({ hour: hour(1) }), delta({ hour: hour(2) })]);
    await store.claim(claimRequest({ owner: 'a' }));
    await store.journal([idOf({ hour: hour(1) })], 'a', hour(10) + 1);
    await store.close();
    // Back to schema version 2: without the columns that migration 3 and later ones added.
    const db = rawDatabase(file);
    db.exec('ALTER TABLE usage_records DROP COLUMN may_have_landed');
    const customerColumns = db.prepare('SELECT name FROM pragma_table_info(?)').all('customers') as Array<{ name: string }>;
    if (customerColumns.some((column) => column.name === 'version')) db.exec('ALTER TABLE customers DROP COLUMN version');
    if (customerColumns.some((column) => column.name === 'license_id')) db.exec('DROP INDEX customers_by_license; ALTER TABLE customers DROP COLUMN license_id');
    db.prepare("UPDATE meta SET value = 2 WHERE key = 'schema_version'").run();
    db.close();

    const reopened = await openStore(file);
    const flags = (await reopened.listRecords()).map((record) => [record.hour, record.attempts, record.mayHaveLanded]);
    expect(flags).toEqual([
      [hour(1), 1, true],
      [hour(2), 0, false],
    ]);
  });

  it('uses a connection it is given and leaves it open', async () => {
    const db = rawDatabase(':memory:');
    const store = new SqliteStore(db);
    await store.open();
    await store.addUsage([delta()]);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT count(*) AS n FROM usage_records').get()).toEqual({ n: 1 });
  });

  it('refuses work before open()', async () => {
    const error = await errorOf(new SqliteStore({ path: freshPath() }).listRecords());
    expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
  });
});
