import type { StoredRecord } from '@meterkit/core';
import type { AwsRecord } from './aws-records';

export type DifferenceKind =
  /** meterkit marked it sent, AWS has no accepted record. */
  | 'missing-at-aws'
  /** AWS holds another quantity for this customer, dimension and hour: the difference is not billed. */
  | 'duplicate-different-quantity'
  /** Both have it, with different quantities. */
  | 'quantity-mismatch'
  /** AWS accepted a record the ledger does not have (another sender?) or has not marked sent. */
  | 'unknown-locally';

export interface Difference {
  readonly kind: DifferenceKind;
  readonly id: string;
  readonly customerKey: string;
  readonly dimension: string;
  readonly hour: number;
  readonly localState?: string;
  readonly localQuantity?: number;
  readonly awsQuantity?: number;
  /** Units meterkit counted that AWS does not bill (positive) or bills without meterkit's count (negative). */
  readonly unbilled: number;
}

/** Compares the ledger with what AWS accepted, record by record; sorted by hour, then id. */
export function compareLedger(local: readonly StoredRecord[], aws: readonly AwsRecord[]): Difference[] {
  const accepted = new Map<string, AwsRecord>();
  for (const record of aws) if (record.status === 'Success' && !accepted.has(record.id)) accepted.set(record.id, record);
  const localById = new Map(local.map((r) => [r.id, r]));
  const differences: Difference[] = [];
  const base = (r: { id: string; customerKey: string; dimension: string; hour: number }) => ({
    id: r.id,
    customerKey: r.customerKey,
    dimension: r.dimension,
    hour: r.hour,
  });
  for (const record of local) {
    const quantity = record.frozen?.quantity ?? record.quantity;
    const remote = accepted.get(record.id);
    const local = { localState: record.state, localQuantity: quantity };
    if (record.state === 'duplicate') {
      differences.push({
        kind: 'duplicate-different-quantity',
        ...base(record),
        ...local,
        ...(remote === undefined ? {} : { awsQuantity: remote.quantity }),
        unbilled: quantity - (remote?.quantity ?? 0),
      });
    } else if (record.state === 'sent' && remote === undefined) {
      differences.push({ kind: 'missing-at-aws', ...base(record), ...local, unbilled: quantity });
    } else if (record.state === 'sent' && remote !== undefined && remote.quantity !== quantity) {
      differences.push({ kind: 'quantity-mismatch', ...base(record), ...local, awsQuantity: remote.quantity, unbilled: quantity - remote.quantity });
    }
  }
  for (const remote of accepted.values()) {
    const record = localById.get(remote.id);
    if (record?.state === 'sent' || record?.state === 'duplicate') continue;
    differences.push({
      kind: 'unknown-locally',
      ...base(remote),
      ...(record === undefined ? {} : { localState: record.state, localQuantity: record.frozen?.quantity ?? record.quantity }),
      awsQuantity: remote.quantity,
      unbilled: -remote.quantity,
    });
  }
  return differences.sort((a, b) => a.hour - b.hour || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
