import type { AllowanceCounter, EntitlementSet } from '@meterkit/core';
import { compareKeysOf } from './order';
import { n, s } from './record-item';
import type { Table } from './table';
import { counterPk, ENTITLEMENTS_PK } from './table-layout';

/** One conditional put: the fetchedAt comparison and the write are atomic. */
export async function putEntitlements(t: Table, set: EntitlementSet): Promise<boolean> {
  return t.put({
    Item: {
      ...t.key(ENTITLEMENTS_PK, set.customerKey),
      productCode: s(set.productCode),
      fetchedAt: n(set.fetchedAt),
      set: s(JSON.stringify(set)),
    },
    ConditionExpression: 'attribute_not_exists(pk) OR fetchedAt < :fetchedAt',
    ExpressionAttributeValues: { ':fetchedAt': n(set.fetchedAt) },
  });
}

export async function getEntitlements(t: Table, customerKey: string): Promise<EntitlementSet | undefined> {
  const item = await t.get(ENTITLEMENTS_PK, customerKey);
  return item?.set?.S === undefined ? undefined : (JSON.parse(item.set.S) as EntitlementSet);
}

/** Entitlement sets live in one partition, like customers: listing them is a query. */
export async function listEntitlements(t: Table): Promise<EntitlementSet[]> {
  const items = await t.query({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': s(ENTITLEMENTS_PK) },
    ConsistentRead: true,
  });
  return items
    .map((item) => JSON.parse(item.set?.S as string) as EntitlementSet)
    .sort((a, b) => compareKeysOf(a.customerKey, b.customerKey));
}

export async function listAllowanceCounters(t: Table, customerKey: string): Promise<AllowanceCounter[]> {
  const items = await t.query({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': s(counterPk(customerKey)) },
    ConsistentRead: true,
  });
  return items
    .map((item) => ({
      customerKey,
      allowanceDimension: item.allowanceDimension?.S as string,
      periodStart: Number(item.periodStart?.N),
      used: Number(item.used?.N ?? 0),
    }))
    .sort((a, b) => b.periodStart - a.periodStart || compareKeysOf(a.allowanceDimension, b.allowanceDimension));
}
