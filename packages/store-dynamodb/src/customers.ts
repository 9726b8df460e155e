import type { CustomerRecord } from '@meterkit/core';
import { compareKeysOf } from './order';
import { n, s } from './record-item';
import type { Item } from './record-item';
import type { Table } from './table';
import { CUSTOMERS_PK, TENANT_INDEX } from './table-layout';

function toCustomer(item: Item): CustomerRecord {
  return JSON.parse(item.record?.S as string) as CustomerRecord;
}

/** Customers live in one partition: the registry is small, and listing it is a query, not a scan. */
export async function putCustomer(t: Table, customer: CustomerRecord): Promise<void> {
  await t.put({
    Item: {
      ...t.key(CUSTOMERS_PK, customer.key),
      record: s(JSON.stringify(customer)),
      updatedAt: n(customer.updatedAt),
      ...(customer.tenantId === undefined ? {} : { tenantId: s(customer.tenantId) }),
    },
  });
}

export async function getCustomer(t: Table, key: string): Promise<CustomerRecord | undefined> {
  const item = await t.get(CUSTOMERS_PK, key);
  return item === undefined ? undefined : toCustomer(item);
}

/**
 * The most recently updated customer linked to a tenant, through the tenant index. The index is eventually
 * consistent: each candidate is read again from the table, so that a link just removed is never returned.
 */
export async function findCustomerByTenant(t: Table, tenantId: string): Promise<CustomerRecord | undefined> {
  const items = await t.query({
    IndexName: TENANT_INDEX,
    KeyConditionExpression: 'tenantId = :tenant',
    ExpressionAttributeValues: { ':tenant': s(tenantId) },
    ScanIndexForward: false,
  });
  const candidates = items.map(toCustomer).sort((a, b) => b.updatedAt - a.updatedAt || compareKeysOf(a.key, b.key));
  for (const candidate of candidates) {
    const current = await getCustomer(t, candidate.key);
    if (current?.tenantId === tenantId) return current;
  }
  return undefined;
}

export async function listCustomers(t: Table): Promise<CustomerRecord[]> {
  const items = await t.query({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': s(CUSTOMERS_PK) },
    ConsistentRead: true,
  });
  return items.map(toCustomer).sort((a, b) => compareKeysOf(a.key, b.key));
}
