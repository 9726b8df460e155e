import type { UsageRecord } from '@aws-sdk/client-marketplace-metering';
import { assertFrozenUsage } from '../model/validate-usage';
import { AwsLimits } from '../model/limits';
import type { FrozenUsage } from '../model/usage';
import type { StoredRecord } from '../store/usage-store';

/** Bytes of the request envelope around the records: {"UsageRecords":[...],"ProductCode":"..."}. */
export const ENVELOPE_BYTES = 64 + AwsLimits.productCodeMaxLength;

export interface WireRecord {
  readonly stored: StoredRecord;
  readonly record: UsageRecord;
  /** Serialized size, including the separating comma. */
  readonly bytes: number;
  /** True when the frozen allocations could not be sent as they are and the record goes out untagged. */
  readonly allocationsDropped: boolean;
}

function allocationsOf(usage: FrozenUsage): UsageRecord['UsageAllocations'] {
  return usage.allocations.map((allocation) => ({
    AllocatedUsageQuantity: allocation.quantity,
    ...(allocation.tags === undefined
      ? {}
      : { Tags: Object.keys(allocation.tags).sort().map((Key) => ({ Key, Value: allocation.tags![Key]! })) }),
  }));
}

function build(stored: StoredRecord, usage: FrozenUsage, withAllocations: boolean): UsageRecord {
  const identity = stored.customer;
  const record: UsageRecord = {
    Timestamp: new Date(stored.hour),
    Dimension: stored.dimension,
    Quantity: usage.quantity,
  };
  if (identity.kind === 'product') {
    // MeterUsage names the product in the request; the record carries no buyer.
  } else if (identity.kind === 'license') {
    record.CustomerAWSAccountId = identity.customerAwsAccountId;
    record.LicenseArn = identity.licenseArn;
  } else if (identity.customerIdentifier !== undefined) {
    record.CustomerIdentifier = identity.customerIdentifier;
  } else {
    record.CustomerAWSAccountId = identity.customerAwsAccountId;
  }
  if (withAllocations && usage.allocations.length > 0) record.UsageAllocations = allocationsOf(usage);
  return record;
}

function sizeOf(record: UsageRecord): number {
  const wire = { ...record, Timestamp: Math.floor(record.Timestamp!.getTime() / 1000) };
  return Buffer.byteLength(JSON.stringify(wire)) + 1;
}

function allocationsValid(usage: FrozenUsage): boolean {
  try {
    assertFrozenUsage(usage);
    return true;
  } catch {
    return false;
  }
}

/**
 * The AWS record for a stored record, a pure function of its frozen usage so every resend is identical.
 * Allocations that AWS would refuse (usage merged from requests with more than 5 distinct tag keys) or that
 * alone exceed the request size limit are dropped: the quantity is billed untagged rather than lost.
 */
export function toWireRecord(stored: StoredRecord): WireRecord {
  const usage = stored.frozen ?? { quantity: stored.quantity, allocations: [] };
  if (usage.allocations.length > 0 && allocationsValid(usage)) {
    const record = build(stored, usage, true);
    const bytes = sizeOf(record);
    if (bytes + ENVELOPE_BYTES < AwsLimits.maxRequestBytes) return { stored, record, bytes, allocationsDropped: false };
  }
  const record = build(stored, usage, false);
  return { stored, record, bytes: sizeOf(record), allocationsDropped: usage.allocations.length > 0 };
}

/** Matches a record in an AWS answer to the record that was sent. */
export function wireKey(record: UsageRecord): string {
  return `${record.LicenseArn ?? ''}\u001f${record.CustomerIdentifier ?? ''}\u001f${record.CustomerAWSAccountId ?? ''}\u001f${record.Dimension}\u001f${record.Timestamp?.getTime()}`;
}
