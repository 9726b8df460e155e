import type { CustomerRecord, LicenseIdentity } from '@meterkit/core';
import { customerKey } from '@meterkit/core';
import { findCustomers } from '../src/customers';
import { Table } from '../src/table';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

function license(n: number, extra: Partial<CustomerRecord> = {}): CustomerRecord {
  const identity: LicenseIdentity = {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(8, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: 'prod-ddb',
  };
  return { key: customerKey(identity), identity, status: 'active', registeredAt: 1, updatedAt: 1, ...extra };
}

it('a filtered query reads the partition one small DynamoDB page after another, from the key it starts after, until it has its limit', async () => {
  const name = dynamo.freshTableName('custq');
  const store = await dynamo.store(name);
  await store.open();
  const customers = Array.from({ length: 12 }, (_, i) => license(i, i % 4 === 1 ? { status: 'deprovisioning', agreementId: 'agmt-a' } : {}));
  for (const customer of customers) await store.putCustomer(customer);
  const table = new Table(dynamo.client(), name);
  const matching = customers.filter((c) => c.status === 'deprovisioning').map((c) => ({ ...c, version: 1 }));

  await expect(findCustomers(table, { status: 'deprovisioning', limit: 10 }, 2)).resolves.toStrictEqual(matching);
  await expect(findCustomers(table, { status: 'deprovisioning', limit: 2 }, 3)).resolves.toStrictEqual(matching.slice(0, 2));
  await expect(findCustomers(table, { agreementId: 'agmt-a', after: matching[0]!.key, limit: 10 }, 1)).resolves.toStrictEqual(matching.slice(1));
  await expect(findCustomers(table, { status: 'inactive', limit: 10 }, 2)).resolves.toStrictEqual([]);
  await store.close();
});
