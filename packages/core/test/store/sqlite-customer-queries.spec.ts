import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite';
import { withRawSqlite } from '../support/raw-sqlite';
import { customerRecord, legacyIdentifierIdentity, licenseIdentity } from '../../src/store/conformance/fixtures';
import type { CustomerRecord } from '../../src/model/customer';

let directory: string;
let file: string;

beforeEach(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-customers-'));
  file = path.join(directory, 'meterkit.db');
});
afterEach(() => {
  fs.rmSync(directory, { recursive: true, force: true });
});

function raw<T>(use: (db: Database.Database) => T): T {
  return withRawSqlite(file, use);
}

async function withStore<T>(use: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path: file });
  await store.open();
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

const regional = (n: number): CustomerRecord => {
  const identity = licenseIdentity(n);
  return customerRecord({ ...identity, licenseArn: identity.licenseArn.replace('::294406891311:license:', ':us-east-1:294406891311:license/') });
};

it('migration 8 fills in the license id of the license customers already stored, and finds them by it', async () => {
  const customers = [customerRecord(licenseIdentity(1), { status: 'deprovisioning' }), regional(2), customerRecord(legacyIdentifierIdentity(3))];
  await withStore(async (store) => {
    for (const customer of customers) await store.putCustomer(customer);
  });
  // Back to schema version 7: customers written before the column existed.
  raw((db) => {
    db.exec('DROP INDEX customers_by_license; DROP INDEX customers_by_status; DROP INDEX customers_by_agreement; DROP INDEX customers_by_successor');
    db.exec('ALTER TABLE customers DROP COLUMN license_id');
    db.prepare("UPDATE meta SET value = 7 WHERE key = 'schema_version'").run();
  });

  await withStore(async (store) => {
    for (const [n, customer] of [customers[0]!, customers[1]!].entries()) {
      await expect(store.findCustomers({ licenseId: `l-${String(n + 1).padStart(32, '0')}`, limit: 5 })).resolves.toStrictEqual([{ ...customer, version: 1 }]);
    }
    await expect(store.findCustomers({ status: 'deprovisioning', limit: 5 })).resolves.toMatchObject([{ key: customers[0]!.key }]);
  });
  const ids = raw((db) => db.prepare('SELECT key, license_id FROM customers ORDER BY key').all());
  expect(ids).toEqual(
    customers.map((c, i) => ({ key: c.key, license_id: i < 2 ? `l-${String(i + 1).padStart(32, '0')}` : null })).sort((a, b) => (a.key < b.key ? -1 : 1)),
  );
});

it('answers each query from an index in key order: no scan of the table, no sort', async () => {
  await withStore(async (store) => {
    for (let n = 1; n <= 50; n++) await store.putCustomer(customerRecord(licenseIdentity(n), { agreementId: `agmt-${n % 5}`, ...(n % 7 === 0 ? { successorAgreementId: 'agmt-next' } : {}) }));
  });
  const plan = (where: string): string =>
    raw((db) => {
      db.exec('ANALYZE');
      const rows = db.prepare(`EXPLAIN QUERY PLAN SELECT record, version FROM customers WHERE ${where} ORDER BY key LIMIT 500`).all() as Array<{ detail: string }>;
      return rows.map((row) => row.detail).join('; ');
    });
  const cases: Array<[string, string]> = [
    [`json_extract(record, '$.status') = 'active' AND key > ''`, 'customers_by_status'],
    [`json_extract(record, '$.agreementId') = 'agmt-1' AND key > ''`, 'customers_by_agreement'],
    [`json_extract(record, '$.successorAgreementId') = 'agmt-next' AND key > ''`, 'customers_by_successor'],
    [`license_id = 'l-1' AND key > ''`, 'customers_by_license'],
  ];
  for (const [where, index] of cases) {
    const detail = plan(where);
    expect(detail).toContain(index);
    expect(detail).not.toContain('TEMP B-TREE');
  }
});
