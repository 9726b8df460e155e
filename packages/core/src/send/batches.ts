import type { CustomerIdentity } from '../model/customer';
import { AwsLimits } from '../model/limits';
import { ENVELOPE_BYTES, type WireRecord } from './wire-record';

export interface Batch {
  readonly productCode: string;
  /** Legacy batches carry the request's ProductCode; license batches must not. */
  readonly identity: CustomerIdentity['kind'];
  readonly records: readonly WireRecord[];
}

/**
 * Packs records into BatchMeterUsage calls: one product and one identity mode per call, at most 25 records,
 * under 1 MB of JSON. Order is kept, so the oldest hours go first.
 */
export function toBatches(records: readonly WireRecord[], maxRecords: number = AwsLimits.recordsPerBatch): Batch[] {
  const open = new Map<string, { batch: { productCode: string; identity: CustomerIdentity['kind']; records: WireRecord[] }; bytes: number }>();
  const batches: Batch[] = [];
  for (const wire of records) {
    const identity = wire.stored.customer.kind;
    const groupKey = `${identity}\u001f${wire.stored.productCode}`;
    let current = open.get(groupKey);
    if (
      current !== undefined &&
      (current.batch.records.length >= maxRecords || current.bytes + wire.bytes >= AwsLimits.maxRequestBytes)
    ) {
      current = undefined;
    }
    if (current === undefined) {
      current = { batch: { productCode: wire.stored.productCode, identity, records: [] }, bytes: ENVELOPE_BYTES };
      open.set(groupKey, current);
      batches.push(current.batch);
    }
    current.batch.records.push(wire);
    current.bytes += wire.bytes;
  }
  return batches;
}
