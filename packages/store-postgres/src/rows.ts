import type { AllocationRow, CustomerRecord, FrozenUsage, RecordState, StoredRecord, Tags } from '@meterkit/core';

/** A row of meterkit_usage_records as pg returns it: bigint columns arrive as strings. */
export interface UsageRecordRow {
  id: string;
  customer_key: string;
  product_code: string;
  customer: string;
  dimension: string;
  hour: string;
  state: RecordState;
  quantity: string;
  frozen: string | null;
  source: 'metered' | 'total';
  attempts: number;
  may_have_landed: boolean;
  next_attempt_at: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  last_attempt_at: string | null;
  settled_at: string | null;
  metering_record_id: string | null;
  reason: string | null;
}

export interface AllocationDbRow {
  record_id: string;
  tags_key: Buffer;
  tags: string | null;
  quantity: string;
}

/** The columns every record query selects, in UsageRecordRow's shape. */
export const RECORD_COLUMNS = `id, customer_key, product_code, customer, dimension, hour, state, quantity, frozen, source,
  attempts, may_have_landed, next_attempt_at, lease_owner, lease_until, last_attempt_at, settled_at, metering_record_id, reason`;

/** Open records have no due time yet: they report 0 until they are frozen. */
export function toStoredRecord(row: UsageRecordRow): StoredRecord {
  return {
    id: row.id,
    customer: JSON.parse(row.customer) as StoredRecord['customer'],
    customerKey: row.customer_key,
    productCode: row.product_code,
    dimension: row.dimension,
    hour: Number(row.hour),
    state: row.state,
    quantity: Number(row.quantity),
    ...(row.frozen === null ? {} : { frozen: JSON.parse(row.frozen) as FrozenUsage }),
    source: row.source,
    attempts: row.attempts,
    mayHaveLanded: row.may_have_landed,
    nextAttemptAt: row.next_attempt_at === null ? 0 : Number(row.next_attempt_at),
    ...(row.lease_owner === null ? {} : { leaseOwner: row.lease_owner }),
    ...(row.lease_until === null ? {} : { leaseUntil: Number(row.lease_until) }),
    ...(row.last_attempt_at === null ? {} : { lastAttemptAt: Number(row.last_attempt_at) }),
    ...(row.settled_at === null ? {} : { settledAt: Number(row.settled_at) }),
    ...(row.metering_record_id === null ? {} : { meteringRecordId: row.metering_record_id }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  };
}

export function toAllocationRow(row: AllocationDbRow): AllocationRow {
  return {
    tagsKey: row.tags_key.toString('utf8'),
    ...(row.tags === null ? {} : { tags: JSON.parse(row.tags) as Tags }),
    quantity: Number(row.quantity),
  };
}

/** Tag keys travel as hex and are decoded to bytea in SQL: text parameters cannot carry their NUL separators. */
export function encodeTagsKey(tagsKey: string): string {
  return Buffer.from(tagsKey, 'utf8').toString('hex');
}

/** The version column is the truth (bigint arrives as a string); the JSON never carries one. */
export function toCustomerRecord(row: { record: string; version: string | number }): CustomerRecord {
  return { ...(JSON.parse(row.record) as CustomerRecord), version: Number(row.version) };
}
