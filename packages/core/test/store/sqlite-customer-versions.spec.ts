import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite';
import { withRawSqlite } from '../support/raw-sqlite';
import { customerRecord, licenseIdentity } from '../../src/store/conformance/fixtures';

let directory: string;
let file: string;
let store: SqliteStore;

beforeEach(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-versions-'));
  file = path.join(directory, 'meterkit.db');
  store = new SqliteStore({ path: file });
  await store.open();
});
afterEach(async () => {
  await store.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

const customer = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1' });

function raw<T>(use: (db: Database.Database) => T): T {
  return withRawSqlite(file, use);
}

it('reads rows written before versions existed (the migration gives them 0) as version 0, and takes conditional writes over 0 only', async () => {
  await store.putCustomer(customer);
  raw((db) => db.prepare('UPDATE customers SET version = 0').run());
  await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, version: 0 });
  await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: undefined })).resolves.toBe(false);
  await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: 1 })).resolves.toBe(false);
  await expect(store.putCustomer({ ...customer, status: 'deprovisioning' }, { expectedVersion: 0 })).resolves.toBe(true);
  await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, status: 'deprovisioning', version: 1 });
});

it('keeps the version out of the stored JSON: the column is the only truth', async () => {
  await store.putCustomer({ ...customer, version: 99 });
  const rows = raw((db) => db.prepare('SELECT record, version FROM customers').all() as { record: string; version: number }[]);
  expect(rows).toHaveLength(1);
  expect(JSON.parse(rows[0]!.record)).not.toHaveProperty('version');
  expect(rows[0]!.version).toBe(1);
});
