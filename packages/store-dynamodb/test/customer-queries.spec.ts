import { findCustomers } from '../src/customers';
import { CallPacer } from '../src/call-pacer';
import { Table } from '../src/table';
import { LocalDynamo } from './support/dynalite';
import { licenseRecord as license } from './support/license-customer';

const dynamo = new LocalDynamo();
beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

it('a filtered query reads the partition one small DynamoDB page after another, from the key it starts after, until it has its limit', async () => {
  const name = dynamo.freshTableName('custq');
  const store = await dynamo.store(name);
  await store.open();
  const customers = Array.from({ length: 12 }, (_, i) => license(i, i % 4 === 1 ? { status: 'deprovisioning', agreementId: 'agmt-a' } : {}));
  for (const customer of customers) await store.putCustomer(customer);
  const table = new Table(dynamo.client(), name, new CallPacer(2));
  const matching = customers.filter((c) => c.status === 'deprovisioning').map((c) => ({ ...c, version: 1 }));

  await expect(findCustomers(table, { status: 'deprovisioning', limit: 10 }, 2)).resolves.toStrictEqual(matching);
  await expect(findCustomers(table, { status: 'deprovisioning', limit: 2 }, 3)).resolves.toStrictEqual(matching.slice(0, 2));
  await expect(findCustomers(table, { agreementId: 'agmt-a', after: matching[0]!.key, limit: 10 }, 1)).resolves.toStrictEqual(matching.slice(1));
  await expect(findCustomers(table, { status: 'inactive', limit: 10 }, 2)).resolves.toStrictEqual([]);
  await store.close();
});
