import { customerKey, type CustomerIdentity, type CustomerRecord } from '@meterkit/core';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

const janitor = new SchemaJanitor();
let store: PostgresStore;
let schema = '';

beforeAll(() => janitor.assertServerAnswers());
beforeEach(async () => {
  schema = janitor.fresh('versions');
  store = new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });
  await store.open();
});
afterEach(() => store.close());
afterAll(() => janitor.dropAll());

const identity: CustomerIdentity = { kind: 'license', licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001', customerAwsAccountId: '100000000001', productCode: 'prod-x' };
const customer: CustomerRecord = { key: customerKey(identity), identity, status: 'active', tenantId: 'tenant-1', registeredAt: 1, updatedAt: 1 };

it('reads rows written before versions existed (the migration gives them 0) as version 0, and takes conditional writes over 0 only', async () => {
  await store.putCustomer(customer);
  await janitor.admin.query(`UPDATE "${schema}".meterkit_customers SET version = DEFAULT`);
  await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, version: 0 });
  await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: undefined })).resolves.toBe(false);
  await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: 1 })).resolves.toBe(false);
  await expect(store.putCustomer({ ...customer, status: 'deprovisioning' }, { expectedVersion: 0 })).resolves.toBe(true);
  await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, status: 'deprovisioning', version: 1 });
});

it('keeps the version out of the stored JSON: the column is the only truth', async () => {
  await store.putCustomer({ ...customer, version: 99 });
  const { rows } = await janitor.admin.query<{ record: string; version: string }>(`SELECT record, version FROM "${schema}".meterkit_customers`);
  expect(rows).toHaveLength(1);
  expect(JSON.parse(rows[0]!.record)).not.toHaveProperty('version');
  expect(Number(rows[0]!.version)).toBe(1);
});
