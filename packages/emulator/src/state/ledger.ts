/** What the emulator accepted, refused and de-duplicated; the source of every inspection view. */
import { randomUUID } from 'node:crypto';
import type { AcceptedRecord, CallRow, DuplicateRow, EventRow, RejectedRow, TotalRow } from '../types';

interface BatchEntry {
  quantity: number;
  meteringRecordId: string;
}

export interface MeterUsageEntry {
  /** Exact request parameters (ClientToken idempotency). */
  paramsSig: string;
  meteringRecordId: string;
  /** The hour's quantity: another one is a DuplicateRequestException, the same one the same record. */
  quantity: number;
}

export type DedupOutcome = { status: 'Success' | 'DuplicateRecord'; meteringRecordId: string; applied: boolean };

export class Ledger {
  private readonly batch = new Map<string, BatchEntry>();
  private readonly meterHour = new Map<string, MeterUsageEntry>();
  private readonly meterToken = new Map<string, MeterUsageEntry>();
  private accepted: AcceptedRecord[] = [];
  private callRows: CallRow[] = [];
  private rejectedRows: RejectedRow[] = [];
  private duplicateRows: DuplicateRow[] = [];
  eventRows: EventRow[] = [];

  /**
   * BatchMeterUsage de-duplication: one record per key (customer, dimension, hour, region).
   * The same quantity again, whatever its allocations → Success with the first MeteringRecordId, not counted
   * again (the first allocations stand). Another quantity → DuplicateRecord, not counted.
   */
  applyBatchRecord(key: string, quantity: number, now: number, make: (id: string) => AcceptedRecord): DedupOutcome {
    const prior = this.batch.get(key);
    if (prior) {
      if (prior.quantity === quantity) return { status: 'Success', meteringRecordId: prior.meteringRecordId, applied: false };
      this.duplicateRows.push({ key, acceptedQuantity: prior.quantity, attemptedQuantity: quantity, at: now });
      return { status: 'DuplicateRecord', meteringRecordId: prior.meteringRecordId, applied: false };
    }
    const id = randomUUID();
    this.batch.set(key, { quantity, meteringRecordId: id });
    this.accepted.push(make(id));
    return { status: 'Success', meteringRecordId: id, applied: true };
  }

  /** MeterUsage: look up a prior report by ClientToken and by hour key. */
  meterUsagePrior(token: string | undefined, hourKey: string): { byToken?: MeterUsageEntry; byHour?: MeterUsageEntry } {
    return { byToken: token ? this.meterToken.get(token) : undefined, byHour: this.meterHour.get(hourKey) };
  }

  recordMeterUsage(token: string | undefined, hourKey: string, entry: MeterUsageEntry, record?: AcceptedRecord): void {
    if (token) this.meterToken.set(token, entry);
    if (!this.meterHour.has(hourKey)) this.meterHour.set(hourKey, entry);
    if (record) this.accepted.push(record);
  }

  noteMeterUsageDuplicate(key: string, acceptedQuantity: number, attemptedQuantity: number, at: number): void {
    this.duplicateRows.push({ key, acceptedQuantity, attemptedQuantity, at });
  }

  call(row: CallRow): void {
    this.callRows.push(row);
  }
  reject(row: RejectedRow): void {
    this.rejectedRows.push(row);
  }

  records(): AcceptedRecord[] {
    return this.accepted.map((r) => ({ ...r }));
  }
  calls(op?: string): CallRow[] {
    return this.callRows.filter((c) => !op || c.operation === op).map((c) => ({ ...c }));
  }
  rejected(): RejectedRow[] {
    return this.rejectedRows.map((r) => ({ ...r }));
  }
  duplicates(): DuplicateRow[] {
    return this.duplicateRows.map((r) => ({ ...r }));
  }
  events(): EventRow[] {
    return this.eventRows.map((r) => ({ ...r }));
  }

  totals(): TotalRow[] {
    const map = new Map<string, TotalRow>();
    for (const r of this.accepted) {
      const who = r.licenseArn ?? r.customerIdentifier ?? r.customerAWSAccountId ?? '';
      const key = `${r.productCode}|${who}|${r.dimension}`;
      let row = map.get(key);
      if (!row) {
        row = { key, productCode: r.productCode, dimension: r.dimension, quantity: 0 };
        if (r.licenseArn) row.licenseArn = r.licenseArn;
        if (r.customerIdentifier) row.customerIdentifier = r.customerIdentifier;
        if (r.customerAWSAccountId) row.customerAWSAccountId = r.customerAWSAccountId;
        map.set(key, row);
      }
      row.quantity += r.quantity;
    }
    return [...map.values()];
  }

  totalFor(q: { licenseArn?: string; customerIdentifier?: string; customerAWSAccountId?: string; productCode?: string; dimension?: string }): number {
    let sum = 0;
    for (const r of this.accepted) {
      if (q.licenseArn !== undefined && r.licenseArn !== q.licenseArn) continue;
      if (q.customerIdentifier !== undefined && r.customerIdentifier !== q.customerIdentifier) continue;
      if (q.customerAWSAccountId !== undefined && r.customerAWSAccountId !== q.customerAWSAccountId) continue;
      if (q.productCode !== undefined && r.productCode !== q.productCode) continue;
      if (q.dimension !== undefined && r.dimension !== q.dimension) continue;
      sum += r.quantity;
    }
    return sum;
  }

  /** Clears usage, de-duplication memory, calls and deliveries. */
  reset(): void {
    this.batch.clear();
    this.meterHour.clear();
    this.meterToken.clear();
    this.accepted = [];
    this.callRows = [];
    this.rejectedRows = [];
    this.duplicateRows = [];
    this.eventRows = [];
  }
}
