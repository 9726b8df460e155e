import { randomUUID } from 'node:crypto';
import { allocationRowsOf, recordId, sameFrozenUsage } from '@meterkit/core';
import type { AddUsageResult, FinalTotal, SetTotalResult, UsageDelta } from '@meterkit/core';
import { inParallel } from './parallel';
import { allocationAttributes, n, s, toStoredRecord } from './record-item';
import type { Item } from './record-item';
import { groupByRecord, markerAttribute, recordUpdate } from './record-update';
import type { RecordGroup } from './record-update';
import type { Table } from './table';
import { BATCHES_PK, batchPartsPk, padNumber, RECORD_SK, recordPk, TTL_ATTRIBUTE, unsettledKey } from './table-layout';

/** Deltas per batch part: keeps each part item far below DynamoDB's 400 KB item limit. */
const DELTAS_PER_PART = 500;
/** Markers this process may still remove from records; older ones stay on their record. */
const MAX_REMEMBERED_MARKERS = 20_000;
/** Orphaned parts (a writer died before its header) are deleted by TTL after this long. */
const ORPHAN_PART_TTL_SECONDS = 7 * 86_400;

export interface WriterSettings {
  readonly table: Table;
  readonly owner: string;
  readonly conflictRetries: number;
  readonly recoverBatchesAfterMs: number;
  readonly concurrency: number;
}

/**
 * Adds usage with single-item writes only. A write to one record is one UpdateItem. A write to several
 * records is first journaled as a batch (its parts, then a header item: the commit point), then applied record
 * by record; every record write carries a marker, so that a retried or recovered write applies once. Before the
 * header exists nothing is applied and the call fails; once it exists the batch is durable, and a batch left
 * unfinished by a crash or an outage is finished by the next claim of any instance.
 */
/** Completed batch ids remembered for retries: far more than the batches a process has unconfirmed at once. */
const COMPLETED_BATCHES_KEPT = 10_000;

export class UsageWriter {
  /** Batch ids this process completed, newest last. */
  private readonly completedBatches = new Set<string>();
  /** record id → markers of completed writes, removed from the record with this process's next write to it. */
  private readonly completedMarkers = new Map<string, string[]>();

  constructor(private readonly o: WriterSettings) {}

  /**
   * A retried batch keeps its id. After a failed call every record write is conditioned on the batch's marker;
   * after a completed one the id is remembered here (batch ids are made and retried by one process).
   */
  async addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    const groups = groupByRecord(deltas);
    if (groups.length === 0) return { late: [] };
    if (batchId !== undefined && this.completedBatches.has(batchId)) return { late: [], applied: false };
    const writeId = batchId ?? randomUUID();
    if (groups.length === 1) {
      const late = await this.applyGroup(groups[0] as RecordGroup, writeId);
      this.remember(groups, writeId);
      this.completed(batchId);
      return { late: late ? [...deltas] : [] };
    }
    await this.journal(writeId, deltas);
    const late = new Set<string>();
    try {
      await inParallel(groups, this.o.concurrency, async (group) => {
        if (await this.applyGroup(group, writeId)) late.add(group.id);
      });
      if (await this.finishBatch(writeId, this.o.owner)) this.remember(groups, writeId);
    } catch {
      // The batch is journaled: the next claim finishes it. Failing here would have the caller write it again.
    }
    this.completed(batchId);
    return { late: deltas.filter((d) => late.has(recordId(d.customerKey, d.dimension, d.hour))) };
  }

  private completed(batchId: string | undefined): void {
    if (batchId === undefined) return;
    if (this.completedBatches.size >= COMPLETED_BATCHES_KEPT) this.completedBatches.delete(this.completedBatches.values().next().value!);
    this.completedBatches.add(batchId);
  }

  /** Finishes batches whose writer stopped before the end (crash, outage), taking over their lease. */
  async recoverBatches(): Promise<void> {
    const now = Date.now();
    const headers = await this.o.table.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': s(BATCHES_PK) },
      ConsistentRead: true,
    });
    for (const header of headers) {
      const batchId = header.batchId?.S;
      const leaseUntil = Number(header.leaseUntil?.N ?? 0);
      if (batchId === undefined || leaseUntil > now) continue;
      const taken = await this.o.table.update({
        Key: this.o.table.key(BATCHES_PK, batchId),
        UpdateExpression: 'SET leaseOwner = :me, leaseUntil = :until',
        ConditionExpression: 'leaseUntil = :seen',
        ExpressionAttributeValues: { ':me': s(this.o.owner), ':until': n(now + this.o.recoverBatchesAfterMs), ':seen': n(leaseUntil) },
      });
      if (taken === undefined) continue;
      const parts = await this.o.table.query({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': s(batchPartsPk(batchId)) },
        ConsistentRead: true,
      });
      const deltas = parts.flatMap((part) => JSON.parse(part.deltas?.S ?? '[]') as UsageDelta[]);
      await inParallel(groupByRecord(deltas), this.o.concurrency, (group) => this.applyGroup(group, batchId));
      await this.finishBatch(batchId, this.o.owner);
    }
  }

  /** Stores a finalized total as a frozen, pending record, or compares it with the record already there. */
  async setTotal(total: FinalTotal, now: number): Promise<SetTotalResult> {
    const id = recordId(total.customerKey, total.dimension, total.hour);
    const item: Item = {
      pk: s(recordPk(id)),
      sk: s(RECORD_SK),
      id: s(id),
      customerKey: s(total.customerKey),
      productCode: s(total.productCode),
      customer: s(JSON.stringify(total.customer)),
      dimension: s(total.dimension),
      hour: n(total.hour),
      state: s('pending'),
      quantity: n(total.usage.quantity),
      version: n(1),
      frozen: s(JSON.stringify(total.usage)),
      frozenQuantity: n(total.usage.quantity),
      source: s('total'),
      attempts: n(0),
      nextAttemptAt: n(now),
      us: s('pending'),
      uk: s(unsettledKey(total.hour, id)),
    };
    for (const row of allocationRowsOf(total.usage)) {
      const attributes = allocationAttributes(row.tagsKey);
      item[attributes.quantity] = n(row.quantity);
      if (row.tags !== undefined) item[attributes.tags] = s(JSON.stringify(row.tags));
    }
    if (await this.o.table.put({ Item: item, ConditionExpression: 'attribute_not_exists(pk)' })) return { outcome: 'created' };
    const existing = toStoredRecord((await this.o.table.get(recordPk(id), RECORD_SK)) as Item);
    const same = existing.source === 'total' && existing.frozen !== undefined && sameFrozenUsage(existing.frozen, total.usage);
    return same ? { outcome: 'unchanged' } : { outcome: 'conflict', existing };
  }

  /** Applies a group once; true when its record was already frozen (the usage is late). */
  private async applyGroup(group: RecordGroup, writeId: string): Promise<boolean> {
    let expectOpen = true;
    for (let attempt = 0; attempt < this.o.conflictRetries; attempt++) {
      const stale = this.completedMarkers.get(group.id) ?? [];
      const applied = await this.o.table.update(recordUpdate(group, expectOpen, writeId, stale));
      if (applied !== undefined) {
        this.completedMarkers.delete(group.id);
        return !expectOpen;
      }
      const current = await this.o.table.get(recordPk(group.id), RECORD_SK);
      if (current?.[markerAttribute(writeId)] !== undefined) return current.state?.S !== 'open';
      expectOpen = current === undefined || current.state?.S === 'open';
    }
    throw new Error(`usage kept conflicting with concurrent writes after ${this.o.conflictRetries} attempts`);
  }

  /** Writes the batch's parts, then its header: from then on the batch is durable and will be applied. */
  private async journal(batchId: string, deltas: readonly UsageDelta[]): Promise<void> {
    const parts: UsageDelta[][] = [];
    for (let i = 0; i < deltas.length; i += DELTAS_PER_PART) parts.push(deltas.slice(i, i + DELTAS_PER_PART));
    const expiresAt = n(Math.floor(Date.now() / 1000) + ORPHAN_PART_TTL_SECONDS);
    await inParallel(parts.map((part, index) => ({ part, index })), this.o.concurrency, async ({ part, index }) => {
      await this.o.table.put({
        Item: { pk: s(batchPartsPk(batchId)), sk: s(padNumber(index)), deltas: s(JSON.stringify(part)), [TTL_ATTRIBUTE]: expiresAt },
      });
    });
    await this.o.table.put({
      Item: {
        pk: s(BATCHES_PK),
        sk: s(batchId),
        batchId: s(batchId),
        parts: n(parts.length),
        leaseOwner: s(this.o.owner),
        leaseUntil: n(Date.now() + this.o.recoverBatchesAfterMs),
      },
    });
  }

  /** Deletes a batch held by `owner`; false when someone else took it over (its markers must then stay). */
  private async finishBatch(batchId: string, owner: string): Promise<boolean> {
    const deleted = await this.o.table.delete({
      Key: this.o.table.key(BATCHES_PK, batchId),
      ConditionExpression: 'leaseOwner = :me',
      ExpressionAttributeValues: { ':me': s(owner) },
    });
    if (!deleted) return false;
    const parts = await this.o.table.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': s(batchPartsPk(batchId)) },
      ConsistentRead: true,
      ProjectionExpression: 'pk, sk',
    });
    await inParallel(parts, this.o.concurrency, (part) => this.o.table.delete({ Key: { pk: part.pk ?? s(""), sk: part.sk ?? s("") } }));
    return true;
  }

  private remember(groups: readonly RecordGroup[], writeId: string): void {
    const marker = markerAttribute(writeId);
    for (const group of groups) {
      const markers = this.completedMarkers.get(group.id) ?? [];
      markers.push(marker);
      this.completedMarkers.set(group.id, markers);
    }
    while (this.completedMarkers.size > MAX_REMEMBERED_MARKERS) {
      const oldest = this.completedMarkers.keys().next().value as string;
      this.completedMarkers.delete(oldest);
    }
  }
}
