import { randomUUID } from 'node:crypto';
import { allocationRowsOf, allowanceAdditions, frozenUsageFromAllocations, BATCH_ID_RETENTION_MS, meterUses, recordId, sameFrozenUsage } from '@meterkit/core';
import type { AddUsageAboveIncludedResult, AddUsageResult, FinalTotal, IncludedUse, SetTotalResult, UsageDelta } from '@meterkit/core';
import { counterMarkerKey, counterUpdate, counterKey } from './allowance-counters';
import type { CounterAddition } from './allowance-counters';
import { inParallel } from './parallel';
import { n, s, toStoredRecord } from './record-item';
import type { Item } from './record-item';
import { markerAttribute, recordUpdate } from './record-update';
import { recordWrites } from './record-writes';
import type { RecordWrite } from './record-writes';
import { WriteOutcome } from './write-outcome';
import type { Applied } from './write-outcome';
import { planTagSets, UNITS_ATTRIBUTE } from './tag-budget';
import type { Table } from './table';
import { appliedBatchPk, BATCHES_PK, batchPartsPk, padNumber, RECORD_SK, recordPk, TTL_ATTRIBUTE, unsettledKey } from './table-layout';

/** Most deltas (or included uses) per batch part. */
const DELTAS_PER_PART = 500;
/**
 * Most bytes of JSON per batch part: DynamoDB refuses items over 400 KB, and a delta carrying five tags of AWS's
 * longest keys and values is about 4 KB of JSON.
 */
const PART_BYTES = 300 * 1024;
/**
 * A batch whose journal is at most this many bytes of JSON is journaled in its header alone (no part items):
 * one write to journal it and one to finish it, where parts cost two more calls and a query.
 */
const INLINE_JOURNAL_BYTES = 64 * 1024;
/** Markers one record write removes at most (they take room in its update expression); the rest wait for the next. */
const STALE_MARKERS_PER_WRITE = 20;
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
  /**
   * Calls of this process under way per batch id. The engine retries a batch whose write did not answer in time
   * while that write may still land: a batch's markers stay on its records as long as another call of it is under way,
   * or a later write to a record could remove the marker before the other call's write reaches it, which would then
   * apply the batch a second time.
   */
  private readonly writing = new Map<string, number>();

  constructor(private readonly o: WriterSettings) {}

  /**
   * A retried batch keeps its id. After a failed call every record write is conditioned on the batch's marker;
   * after a completed one the id is remembered here (batch ids are made and retried by one process).
   */
  addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    return batchId === undefined ? this.addUsageOnce(deltas) : this.counted(batchId, () => this.addUsageOnce(deltas, batchId));
  }

  private async addUsageOnce(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    const writes = recordWrites(deltas);
    if (writes.length === 0) return { late: [] };
    if (batchId !== undefined && this.completedBatches.has(batchId)) return { late: [], applied: false };
    const writeId = batchId ?? randomUUID();
    const outcome = new WriteOutcome();
    if (writes.length === 1) {
      outcome.add(writes[0] as RecordWrite, await this.applyWrite(writes[0] as RecordWrite, writeId));
      this.remember(writes, writeId);
      this.completed(batchId);
      return outcome.of(deltas);
    }
    await this.journal(writeId, deltas);
    try {
      await inParallel(writes, this.o.concurrency, async (write) => outcome.add(write, await this.applyWrite(write, writeId)));
      if (await this.finishBatch(writeId, this.o.owner)) this.remember(writes, writeId);
    } catch {
      // The batch is journaled: the next claim finishes it. Failing here would have the caller write it again.
    }
    this.completed(batchId);
    return outcome.of(deltas);
  }

  /**
   * Usage above what is included (contracts with consumption). The batch is journaled first with a header only one
   * writer of its id can create (the others answer `applied: false`), then each counter is added to once (its
   * marker keeps the value before, so the metered parts are the same however often it is applied), then the plain
   * deltas and the metered parts go to their records as addUsage() writes them. An `A#<batchId>` item, kept as long
   * as applied batch ids are remembered, stops a batch id journaled again after it was finished from applying twice.
   * A batch left unfinished by a crash or an outage is finished by the next claim of any instance.
   */
  addUsageAboveIncluded(deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string): Promise<AddUsageAboveIncludedResult> {
    return this.counted(batchId, () => this.addUsageAboveIncludedOnce(deltas, uses, batchId));
  }

  private async counted<T>(batchId: string, call: () => Promise<T>): Promise<T> {
    this.writing.set(batchId, (this.writing.get(batchId) ?? 0) + 1);
    try {
      return await call();
    } finally {
      const left = (this.writing.get(batchId) ?? 1) - 1;
      if (left === 0) this.writing.delete(batchId);
      else this.writing.set(batchId, left);
    }
  }

  /** True while another call of this process may still apply the batch: its markers must stay. */
  private stillWriting(batchId: string): boolean {
    return (this.writing.get(batchId) ?? 0) > 1;
  }

  private async addUsageAboveIncludedOnce(deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string): Promise<AddUsageAboveIncludedResult> {
    const notApplied = { late: [], applied: false, metered: [] };
    if (this.completedBatches.has(batchId)) return notApplied;
    if (!(await this.journal(batchId, deltas, uses))) return notApplied;
    if (await this.wasApplied(batchId)) {
      await this.finishBatch(batchId, this.o.owner);
      return notApplied;
    }
    const applied = await this.applyIncluded(batchId, deltas, uses);
    await this.markApplied(batchId);
    if (await this.finishBatch(batchId, this.o.owner)) {
      this.remember(applied.writes, batchId);
      this.rememberCounters(applied.counters, batchId);
    }
    this.completed(batchId);
    return { ...applied.outcome, applied: true, metered: applied.metered };
  }

  /** Adds the uses to their counters, then the plain deltas and the metered parts to their records, each item once. */
  private async applyIncluded(batchId: string, deltas: readonly UsageDelta[], uses: readonly IncludedUse[]) {
    const counters = allowanceAdditions(uses);
    const before = new Map<string, number>();
    await inParallel(counters, this.o.concurrency, async (counter) => {
      before.set(counter.id, await this.addToCounter(counter, batchId));
    });
    const { metered, deltas: meteredDeltas } = meterUses(uses, before);
    const all = [...deltas, ...meteredDeltas];
    const writes = recordWrites(all);
    const outcome = new WriteOutcome();
    await inParallel(writes, this.o.concurrency, async (write) => outcome.add(write, await this.applyWrite(write, batchId)));
    return { writes, counters, metered, outcome: outcome.of(all) };
  }

  /** Adds a batch's uses to one counter once; answers the counter's value before them. */
  private async addToCounter(counter: CounterAddition, batchId: string): Promise<number> {
    const marker = markerAttribute(batchId);
    const staleKey = counterMarkerKey(counter);
    for (let attempt = 0; attempt < this.o.conflictRetries; attempt++) {
      const updated = await this.o.table.update(counterUpdate(counter, batchId, this.completedMarkers.get(staleKey) ?? []));
      if (updated !== undefined) {
        this.completedMarkers.delete(staleKey);
        return Number(updated[marker]?.N ?? 0);
      }
      const key = counterKey(counter);
      const current = await this.o.table.get(key.pk.S, key.sk.S);
      const before = current?.[marker]?.N;
      if (before !== undefined) return Number(before);
    }
    throw new Error(`an allowance counter kept refusing the batch's write after ${this.o.conflictRetries} attempts`);
  }

  private async wasApplied(batchId: string): Promise<boolean> {
    return (await this.o.table.get(appliedBatchPk(batchId), RECORD_SK)) !== undefined;
  }

  private async markApplied(batchId: string): Promise<void> {
    await this.o.table.put({
      Item: {
        pk: s(appliedBatchPk(batchId)),
        sk: s(RECORD_SK),
        [TTL_ATTRIBUTE]: n(Math.floor((Date.now() + BATCH_ID_RETENTION_MS) / 1000)),
      },
    });
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
      const parts =
        header.deltas !== undefined
          ? [header]
          : await this.o.table.query({
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': s(batchPartsPk(batchId)) },
              ConsistentRead: true,
            });
      const deltas = parts.flatMap((part) => JSON.parse(part.deltas?.S ?? '[]') as UsageDelta[]);
      if (header.included?.BOOL === true) {
        const uses = parts.flatMap((part) => JSON.parse(part.uses?.S ?? '[]') as IncludedUse[]);
        if (!(await this.wasApplied(batchId))) {
          await this.applyIncluded(batchId, deltas, uses);
          await this.markApplied(batchId);
        }
      } else {
        await inParallel(recordWrites(deltas), this.o.concurrency, (write) => this.applyWrite(write, batchId));
      }
      await this.finishBatch(batchId, this.o.owner);
    }
  }

  /**
   * Stores a finalized total as a frozen, pending record, or compares it with the record already there. Tag sets
   * over the record's budget are stored untagged, the same way on every call, so a repeated total compares equal.
   */
  async setTotal(total: FinalTotal, now: number): Promise<SetTotalResult> {
    const id = recordId(total.customerKey, total.dimension, total.hour);
    const plan = planTagSets(new Map(allocationRowsOf(total.usage).map((row) => [row.tagsKey, { tags: row.tags, quantity: row.quantity }])), undefined);
    const usage = plan.folded.length === 0 ? total.usage : frozenUsageFromAllocations([...plan.allocations].map(([tagsKey, row]) => ({ tagsKey, ...(row.tags === undefined ? {} : { tags: row.tags }), quantity: row.quantity })));
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
      quantity: n(usage.quantity),
      version: n(1),
      frozen: s(JSON.stringify(usage)),
      frozenQuantity: n(usage.quantity),
      source: s('total'),
      attempts: n(0),
      nextAttemptAt: n(now),
      us: s('pending'),
      uk: s(unsettledKey(total.hour, id)),
      ...(plan.units.length === 0 ? {} : { [UNITS_ATTRIBUTE]: { SS: plan.units } }),
    };
    for (const { tags, quantity, attributes } of plan.allocations.values()) {
      item[attributes.quantity] = n(quantity);
      if (tags !== undefined) item[attributes.tags] = s(JSON.stringify(tags));
    }
    if (await this.o.table.put({ Item: item, ConditionExpression: 'attribute_not_exists(pk)' })) return { outcome: 'created' };
    const existing = toStoredRecord((await this.o.table.get(recordPk(id), RECORD_SK)) as Item);
    const same = existing.source === 'total' && existing.frozen !== undefined && sameFrozenUsage(existing.frozen, usage);
    return same ? { outcome: 'unchanged' } : { outcome: 'conflict', existing };
  }

  /**
   * Applies a write once: whether its record was already frozen (the usage is late) and which of its tag sets went
   * untagged. A write refused because the record was not as expected (its state, or tag sets the write did not know
   * of) is planned again from the record. A write another call applied reports nothing untagged (its plan is unknown).
   */
  private async applyWrite(write: RecordWrite, writeId: string): Promise<Applied> {
    let expectOpen = true;
    let current: Item | undefined;
    for (let attempt = 0; attempt < this.o.conflictRetries; attempt++) {
      const markers = this.completedMarkers.get(write.id) ?? [];
      const stale = markers.slice(0, STALE_MARKERS_PER_WRITE);
      const plan = planTagSets(write.allocations, current);
      const applied = await this.o.table.update(recordUpdate(write, plan, expectOpen, writeId, stale));
      if (applied !== undefined) {
        if (markers.length > stale.length) this.completedMarkers.set(write.id, markers.slice(stale.length));
        else this.completedMarkers.delete(write.id);
        return { late: !expectOpen, untagged: plan.folded };
      }
      current = await this.o.table.get(recordPk(write.id), RECORD_SK);
      if (current?.[markerAttribute(writeId, write.part)] !== undefined) return { late: current.state?.S !== 'open', untagged: [] };
      expectOpen = current === undefined || current.state?.S === 'open';
    }
    throw new Error(`usage kept conflicting with concurrent writes after ${this.o.conflictRetries} attempts`);
  }

  /**
   * Writes the batch's parts, then its header: from then on the batch is durable and will be applied. A small batch
   * is written in its header alone. A batch of included usage gets a header only if none exists for its id (false
   * otherwise: another call has the batch).
   */
  private async journal(batchId: string, deltas: readonly UsageDelta[], uses?: readonly IncludedUse[]): Promise<boolean> {
    const deltaParts = jsonParts(deltas);
    const useParts = uses === undefined ? undefined : jsonParts(uses);
    const inline = inlineJournal(deltaParts, useParts);
    const parts: Item[] = [];
    if (inline === undefined) {
      for (const json of deltaParts) parts.push({ deltas: s(json) });
      for (const json of useParts ?? []) parts.push({ uses: s(json) });
    }
    const expiresAt = n(Math.floor(Date.now() / 1000) + ORPHAN_PART_TTL_SECONDS);
    await inParallel(parts.map((part, index) => ({ part, index })), this.o.concurrency, async ({ part, index }) => {
      await this.o.table.put({
        Item: { pk: s(batchPartsPk(batchId)), sk: s(padNumber(index)), ...part, [TTL_ATTRIBUTE]: expiresAt },
      });
    });
    return this.o.table.put({
      Item: {
        pk: s(BATCHES_PK),
        sk: s(batchId),
        batchId: s(batchId),
        parts: n(parts.length),
        leaseOwner: s(this.o.owner),
        leaseUntil: n(Date.now() + this.o.recoverBatchesAfterMs),
        ...(uses === undefined ? {} : { included: { BOOL: true } }),
        ...inline,
      },
      ...(uses === undefined ? {} : { ConditionExpression: 'attribute_not_exists(pk)' }),
    });
  }

  /**
   * Deletes a batch held by `owner`, then the parts its header counted; false when someone else took it over (its
   * markers must then stay). Parts a writer wrote before dying without a header expire by TTL.
   */
  private async finishBatch(batchId: string, owner: string): Promise<boolean> {
    const header = await this.o.table.take({
      Key: this.o.table.key(BATCHES_PK, batchId),
      ConditionExpression: 'leaseOwner = :me',
      ExpressionAttributeValues: { ':me': s(owner) },
    });
    if (header === undefined) return false;
    const indexes = Array.from({ length: Number(header.parts?.N ?? 0) }, (_, index) => index);
    await inParallel(indexes, this.o.concurrency, (index) => this.o.table.delete({ Key: this.o.table.key(batchPartsPk(batchId), padNumber(index)) }));
    return true;
  }

  private rememberCounters(counters: readonly CounterAddition[], batchId: string): void {
    if (this.stillWriting(batchId)) return;
    const marker = markerAttribute(batchId);
    for (const counter of counters) {
      const key = counterMarkerKey(counter);
      this.completedMarkers.set(key, [...(this.completedMarkers.get(key) ?? []), marker]);
    }
  }

  private remember(writes: readonly RecordWrite[], writeId: string): void {
    if (this.stillWriting(writeId)) return;
    for (const write of writes) {
      const markers = this.completedMarkers.get(write.id) ?? [];
      markers.push(markerAttribute(writeId, write.part));
      this.completedMarkers.set(write.id, markers);
    }
    while (this.completedMarkers.size > MAX_REMEMBERED_MARKERS) {
      const oldest = this.completedMarkers.keys().next().value as string;
      this.completedMarkers.delete(oldest);
    }
  }
}

/**
 * The journal of a batch small enough to travel in its header (one part of deltas, at most one of uses), or undefined
 * when it needs part items. The header always carries `deltas` then: that is how recovery tells it holds the journal.
 */
function inlineJournal(deltaParts: readonly string[], useParts: readonly string[] | undefined): Item | undefined {
  if (deltaParts.length > 1 || (useParts?.length ?? 0) > 1) return undefined;
  const deltas = deltaParts[0] ?? '[]';
  const uses = useParts === undefined ? undefined : (useParts[0] ?? '[]');
  if (Buffer.byteLength(deltas) + (uses === undefined ? 0 : Buffer.byteLength(uses)) > INLINE_JOURNAL_BYTES) return undefined;
  return uses === undefined ? { deltas: s(deltas) } : { deltas: s(deltas), uses: s(uses) };
}

/** `items` as JSON arrays of at most DELTAS_PER_PART items and PART_BYTES bytes each (an item over it alone). */
function jsonParts(items: readonly unknown[]): string[] {
  const parts: string[] = [];
  let part: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = Buffer.byteLength(json) + 1;
    if (part.length > 0 && (part.length >= DELTAS_PER_PART || bytes + size > PART_BYTES)) {
      parts.push(`[${part.join(',')}]`);
      part = [];
      bytes = 2;
    }
    part.push(json);
    bytes += size;
  }
  if (part.length > 0) parts.push(`[${part.join(',')}]`);
  return parts;
}
