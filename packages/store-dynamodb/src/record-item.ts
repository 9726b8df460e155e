import { frozenUsageFromAllocations } from '@meterkit/core';
import type { FrozenUsage, RecordState, StoredRecord } from '@meterkit/core';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { allocationRowsOfItem } from './tag-sets';

export type Item = Record<string, AttributeValue>;

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });

function str(item: Item, name: string): string | undefined {
  return item[name]?.S;
}

function num(item: Item, name: string): number | undefined {
  const value = item[name]?.N;
  return value === undefined ? undefined : Number(value);
}

/** The snapshot a record item would be frozen with now. */
export function snapshotOfItem(item: Item): FrozenUsage {
  return frozenUsageFromAllocations(allocationRowsOfItem(item));
}

/** Open records have no due time yet: they report 0 until they are frozen. */
export function toStoredRecord(item: Item): StoredRecord {
  const optional = <K extends keyof StoredRecord>(key: K, value: StoredRecord[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  const frozen = str(item, 'frozen');
  return {
    id: str(item, 'id') as string,
    customer: JSON.parse(str(item, 'customer') as string) as StoredRecord['customer'],
    customerKey: str(item, 'customerKey') as string,
    productCode: str(item, 'productCode') as string,
    dimension: str(item, 'dimension') as string,
    hour: num(item, 'hour') as number,
    state: str(item, 'state') as RecordState,
    quantity: num(item, 'quantity') as number,
    ...optional('frozen', frozen === undefined ? undefined : (JSON.parse(frozen) as FrozenUsage)),
    source: str(item, 'source') as StoredRecord['source'],
    attempts: num(item, 'attempts') ?? 0,
    // Items journaled before the flag existed may have reached AWS (docs/decisions.md).
    mayHaveLanded: item['mayHaveLanded']?.BOOL ?? (num(item, 'attempts') ?? 0) > 0,
    nextAttemptAt: num(item, 'nextAttemptAt') ?? 0,
    ...optional('leaseOwner', str(item, 'leaseOwner')),
    ...optional('leaseUntil', num(item, 'leaseUntil')),
    ...optional('lastAttemptAt', num(item, 'lastAttemptAt')),
    ...optional('settledAt', num(item, 'settledAt')),
    ...optional('meteringRecordId', str(item, 'meteringRecordId')),
    ...optional('reason', str(item, 'reason')),
  };
}
