import type { CustomerRecord } from '../../model/customer';
import type { FrozenUsage, Tags } from '../../model/usage';
import type { AllocationRow } from '../frozen-usage';
import type { AllowanceCounter } from '../entitlement-store';
import type { RecordState, StoredRecord } from '../usage-store';

/** A row of usage_records as better-sqlite3 returns it. */
export interface UsageRecordRow {
  id: string;
  customer_key: string;
  product_code: string;
  customer: string;
  dimension: string;
  hour: number;
  state: RecordState;
  quantity: number;
  frozen: string | null;
  source: 'metered' | 'total';
  attempts: number;
  may_have_landed: 0 | 1;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  last_attempt_at: number | null;
  settled_at: number | null;
  metering_record_id: string | null;
  reason: string | null;
}

export interface AllocationDbRow {
  tags_key: string;
  tags: string | null;
  quantity: number;
}

export interface AllowanceCounterRow {
  customer_key: string;
  allowance_dimension: string;
  period_start: number;
  used: number;
}

export interface CustomerDbRow {
  record: string;
  version: number;
}

/** Open records have no due time yet: they report 0 until they are frozen. */
export function toStoredRecord(row: UsageRecordRow): StoredRecord {
  return {
    id: row.id,
    customer: JSON.parse(row.customer) as StoredRecord['customer'],
    customerKey: row.customer_key,
    productCode: row.product_code,
    dimension: row.dimension,
    hour: row.hour,
    state: row.state,
    quantity: row.quantity,
    ...(row.frozen === null ? {} : { frozen: JSON.parse(row.frozen) as FrozenUsage }),
    source: row.source,
    attempts: row.attempts,
    mayHaveLanded: row.may_have_landed === 1,
    nextAttemptAt: row.next_attempt_at ?? 0,
    ...(row.lease_owner === null ? {} : { leaseOwner: row.lease_owner }),
    ...(row.lease_until === null ? {} : { leaseUntil: row.lease_until }),
    ...(row.last_attempt_at === null ? {} : { lastAttemptAt: row.last_attempt_at }),
    ...(row.settled_at === null ? {} : { settledAt: row.settled_at }),
    ...(row.metering_record_id === null ? {} : { meteringRecordId: row.metering_record_id }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  };
}

export function toAllocationRow(row: AllocationDbRow): AllocationRow {
  return {
    tagsKey: row.tags_key,
    ...(row.tags === null ? {} : { tags: JSON.parse(row.tags) as Tags }),
    quantity: row.quantity,
  };
}

export function toCustomerRecord(row: CustomerDbRow): CustomerRecord {
  return { ...(JSON.parse(row.record) as CustomerRecord), version: row.version };
}

export function toAllowanceCounter(row: AllowanceCounterRow): AllowanceCounter {
  return { customerKey: row.customer_key, allowanceDimension: row.allowance_dimension, periodStart: row.period_start, used: row.used };
}
