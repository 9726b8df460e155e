import { matchesCustomerFilter, type CustomerQuery, type CustomerRecord, type CustomerWriteCondition } from '@meterkit/core';
import { compareKeysOf } from './order';
import { n, s } from './record-item';
import type { Item } from './record-item';
import type { Table } from './table';
import { CUSTOMERS_PK, KEY, TENANT_INDEX } from './table-layout';

/** The version attribute is the truth; items written before it existed count as version 0. */
function toCustomer(item: Item): CustomerRecord {
  return { ...(JSON.parse(item.record?.S as string) as CustomerRecord), version: Number(item.version?.N ?? 0) };
}

/** The version check and the write are one UpdateItem with a condition expression. */
function versionCheck(condition: CustomerWriteCondition | undefined): Pick<Parameters<Table['update']>[0], 'ConditionExpression' | 'ExpressionAttributeValues'> {
  if (condition === undefined) return {};
  if (condition.expectedVersion === undefined) return { ConditionExpression: 'attribute_not_exists(#pk)' };
  if (condition.expectedVersion === 0) return { ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#version)' };
  return { ConditionExpression: 'attribute_exists(#pk) AND #version = :expected', ExpressionAttributeValues: { ':expected': n(condition.expectedVersion) } };
}

/** Customers live in one partition: the registry is small, and listing it is a query, not a scan. */
export async function putCustomer(t: Table, customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
  const { version: _assigned, ...record } = customer;
  const check = versionCheck(condition);
  const tenant = customer.tenantId === undefined ? ' REMOVE #tenantId' : ', #tenantId = :tenantId';
  const updated = await t.update({
    Key: t.key(CUSTOMERS_PK, customer.key),
    UpdateExpression: `SET #record = :record, #updatedAt = :updatedAt${tenant} ADD #version :one`,
    ...(check.ConditionExpression === undefined ? {} : { ConditionExpression: check.ConditionExpression }),
    ExpressionAttributeNames: {
      '#record': 'record',
      '#updatedAt': 'updatedAt',
      '#tenantId': 'tenantId',
      '#version': 'version',
      ...(check.ConditionExpression?.includes('#pk') ? { '#pk': KEY.partition } : {}),
    },
    ExpressionAttributeValues: {
      ':record': s(JSON.stringify(record)),
      ':updatedAt': n(customer.updatedAt),
      ':one': n(1),
      ...(customer.tenantId === undefined ? {} : { ':tenantId': s(customer.tenantId) }),
      ...check.ExpressionAttributeValues,
    },
    ReturnValues: 'NONE',
  });
  return updated !== undefined;
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

/** Items read per call when findCustomers() filters: each call is one page of DynamoDB's, never the whole registry. */
const FILTERED_READ = 500;

/**
 * One page of findCustomers(): reads the customers' partition in key order from `after` on, a page of items per
 * call (asynchronous I/O: the event loop runs between calls), and keeps those matching the filters until it has
 * `limit`. The filters are checked on the stored JSON, so customers written by any version of the store match.
 */
export async function findCustomers(t: Table, query: CustomerQuery, readSize = FILTERED_READ): Promise<CustomerRecord[]> {
  const found: CustomerRecord[] = [];
  if (query.limit < 1) return found;
  const filtered = query.status !== undefined || query.agreementId !== undefined || query.successorAgreementId !== undefined || query.licenseId !== undefined;
  let start: Item | undefined;
  do {
    const page = await t.queryPage(
      {
        KeyConditionExpression: query.after === undefined ? 'pk = :pk' : 'pk = :pk AND sk > :after',
        ExpressionAttributeValues: { ':pk': s(CUSTOMERS_PK), ...(query.after === undefined ? {} : { ':after': s(query.after) }) },
        ConsistentRead: true,
        Limit: filtered ? readSize : query.limit - found.length,
      },
      start,
    );
    for (const item of page.items) {
      const customer = toCustomer(item);
      if (!matchesCustomerFilter(customer, query)) continue;
      found.push(customer);
      if (found.length >= query.limit) return found;
    }
    start = page.next;
  } while (start !== undefined);
  return found;
}

export async function listCustomers(t: Table): Promise<CustomerRecord[]> {
  const items = await t.query({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': s(CUSTOMERS_PK) },
    ConsistentRead: true,
  });
  return items.map(toCustomer).sort((a, b) => compareKeysOf(a.key, b.key));
}
