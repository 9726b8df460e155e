import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { customerKey, type CustomerIdentity, type CustomerRecord } from '@meterkit/core';
import type { DynamoDbStore } from '../src';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
let store: DynamoDbStore;
let table = '';

beforeAll(() => dynamo.start());
beforeEach(async () => {
  table = dynamo.freshTableName('versions');
  store = await dynamo.store(table);
  await store.open();
});
afterEach(() => store.close());
afterAll(() => dynamo.stop());

const identity: CustomerIdentity = { kind: 'license', licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001', customerAwsAccountId: '100000000001', productCode: 'prod-x' };
const customer: CustomerRecord = { key: customerKey(identity), identity, status: 'active', tenantId: 'tenant-1', registeredAt: 1, updatedAt: 1 };

describe('customer items written before versions existed', () => {
  beforeEach(async () => {
    // The item as the store wrote it before: no version attribute.
    await dynamo.client().send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: 'C' }, sk: { S: customer.key }, record: { S: JSON.stringify(customer) }, updatedAt: { N: '1' }, tenantId: { S: 'tenant-1' } },
      }),
    );
  });

  it('read as version 0, and take a conditional write over version 0 only', async () => {
    await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, version: 0 });
    await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: undefined })).resolves.toBe(false);
    await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: 1 })).resolves.toBe(false);
    await expect(store.putCustomer({ ...customer, status: 'deprovisioning' }, { expectedVersion: 0 })).resolves.toBe(true);
    await expect(store.putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: 0 })).resolves.toBe(false);
    await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, status: 'deprovisioning', version: 1 });
  });

  it('drop the tenant link when a write has none', async () => {
    const { tenantId: _dropped, ...unlinked } = customer;
    await expect(store.putCustomer(unlinked, { expectedVersion: 0 })).resolves.toBe(true);
    await expect(store.findCustomerByTenant('tenant-1')).resolves.toBeUndefined();
    await expect(store.getCustomer(customer.key)).resolves.toStrictEqual({ ...unlinked, version: 1 });
  });
});
