import { ErrorCodes, MeterkitError } from '../errors';
import type { EntitlementSet } from '../contracts/entitlement-set';
import type { CustomerRecord } from '../model/customer';
import type { FinalTotal, UsageDelta } from '../model/usage';
import {
  allocationRowsOf,
  assertStorableDelta,
  assertTerminalState,
  compareKeys,
  frozenUsageFromAllocations,
  sameFrozenUsage,
} from './frozen-usage';
import type { AllocationRow } from './frozen-usage';
import { allowanceCounterId, assertStorableEntitlementSet, assertStorableUse, meteredAbove } from './allowance';
import type { AddUsageAboveIncludedResult, AllowanceCounter, EntitlementStore, IncludedUse } from './entitlement-store';
import { REDRIVABLE_STATES, TERMINAL_STATES, recordId, satisfies } from './usage-store';
import { ClaimQueue } from './claim-queue';
import { CustomerIndex } from './customer-index';
import { matchesCustomerFilter } from './customer-pages';
import { yieldToEventLoop } from './yield-to-event-loop';
import { assertExtendSendSlotRequest, assertSendSlotRequest, extendSendSlotRing, nextSendSlot } from '../send/send-slot-ring';
import type {
  AddUsageResult,
  ClaimRequest,
  CustomerQuery,
  CustomerWriteCondition,
  HourStats,
  RecordQuery,
  RecordState,
  Release,
  SetTotalResult,
  Settlement,
  StoreStats,
  StoredRecord,
  UsageStore,
} from './usage-store';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface MemoryRecord {
  record: Mutable<StoredRecord>;
  /** One row per tag set, most often one: an array costs less memory per record than a Map. */
  allocations: AllocationRow[];
  /** The record's ticket in the claim queue. */
  queueTicket: number;
}

const ALL_STATES: readonly RecordState[] = ['open', 'pending', 'sending', ...TERMINAL_STATES];
const UNSETTLED_STATES: ReadonlySet<RecordState> = new Set(['open', 'pending', 'sending']);
/** Records frozen, journaled, settled, released or redriven, or visited by stats(), between two yields to the event loop. */
const SLICE = 500;

/**
 * IN-MEMORY STORE: FOR DEVELOPMENT AND TESTS ONLY.
 * Everything it holds (unsent usage, send attempts, customers) is lost when the process exits, so usage
 * recorded with it is never billed. It is not shared between processes. Use SqliteStore or a durable
 * store in production. It is the reference implementation of the UsageStore contract.
 */
export class MemoryStore implements UsageStore, EntitlementStore {
  private readonly appliedBatches = new Set<string>();
  readonly kind = 'memory';
  readonly durable = false;

  private readonly records = new Map<string, MemoryRecord>();
  /** Open records by hour: claim() freezes what is due without visiting every record. */
  private readonly openByHour = new Map<number, Set<MemoryRecord>>();
  /**
   * What claim() chooses from: the queue of pending records and of sending ones whose lease ended, and the sending
   * records by the end of their lease (a claim's leases share one end) until it ends. Settled records leave them.
   */
  private readonly claimQueue = new ClaimQueue<MemoryRecord>();
  private readonly sendingByLease = new Map<number, Set<MemoryRecord>>();
  /** Open, pending and sending records by customer: the forced customers' freezes and claims. */
  private readonly unsettledByCustomer = new Map<string, Set<MemoryRecord>>();
  private readonly customers = new Map<string, CustomerRecord>();
  private readonly customerIndex = new CustomerIndex();
  private readonly entitlementSets = new Map<string, EntitlementSet>();
  /** allowanceCounterId() → counter. */
  private readonly allowanceCounters = new Map<string, AllowanceCounter>();
  /** takeSendSlot(): scope → the last grant times. */
  private readonly sendSlots = new Map<string, number[]>();
  private closed = false;

  async open(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    this.assertOpen();
    deltas.forEach(assertStorableDelta);
    if (batchId !== undefined) {
      if (this.appliedBatches.has(batchId)) return { late: [], applied: false };
      this.appliedBatches.add(batchId);
    }
    const late: UsageDelta[] = [];
    for (const delta of deltas) this.add(delta, late);
    return { late };
  }

  async addUsageAboveIncluded(
    deltas: readonly UsageDelta[],
    uses: readonly IncludedUse[],
    batchId: string,
  ): Promise<AddUsageAboveIncludedResult> {
    this.assertOpen();
    deltas.forEach(assertStorableDelta);
    uses.forEach(assertStorableUse);
    if (this.appliedBatches.has(batchId)) return { late: [], applied: false, metered: [] };
    this.appliedBatches.add(batchId);
    const late: UsageDelta[] = [];
    for (const delta of deltas) this.add(delta, late);
    const metered = uses.map((use) => {
      const { customerKey } = use.delta;
      const id = allowanceCounterId(customerKey, use.allowanceDimension, use.periodStart);
      const used = this.allowanceCounters.get(id)?.used ?? 0;
      const part = meteredAbove(used, use.delta.quantity, use.included);
      this.allowanceCounters.set(id, {
        customerKey,
        allowanceDimension: use.allowanceDimension,
        periodStart: use.periodStart,
        used: used + use.delta.quantity,
      });
      if (part > 0) this.add({ ...use.delta, quantity: part }, late);
      return part;
    });
    return { late, applied: true, metered };
  }

  async listAllowanceCounters(customerKey: string): Promise<AllowanceCounter[]> {
    this.assertOpen();
    return [...this.allowanceCounters.values()]
      .filter((counter) => counter.customerKey === customerKey)
      .sort((a, b) => b.periodStart - a.periodStart || compareKeys(a.allowanceDimension, b.allowanceDimension))
      .map((counter) => ({ ...counter }));
  }

  async putEntitlements(set: EntitlementSet): Promise<boolean> {
    this.assertOpen();
    assertStorableEntitlementSet(set);
    const stored = this.entitlementSets.get(set.customerKey);
    if (stored !== undefined && stored.fetchedAt >= set.fetchedAt) return false;
    this.entitlementSets.set(set.customerKey, structuredClone(set));
    return true;
  }

  async getEntitlements(customerKey: string): Promise<EntitlementSet | undefined> {
    this.assertOpen();
    const set = this.entitlementSets.get(customerKey);
    return set === undefined ? undefined : structuredClone(set);
  }

  async listEntitlements(): Promise<EntitlementSet[]> {
    this.assertOpen();
    return [...this.entitlementSets.values()].sort((a, b) => compareKeys(a.customerKey, b.customerKey)).map((set) => structuredClone(set));
  }

  /** Adds one delta to its record (created open if needed); a delta reaching a frozen record goes to `late`. */
  private add(delta: UsageDelta, late: UsageDelta[]): void {
    const entry = this.recordFor(delta);
    entry.record.quantity += delta.quantity;
    const index = entry.allocations.findIndex((row) => row.tagsKey === delta.tagsKey);
    const previous = entry.allocations[index];
    const row: AllocationRow = {
      tagsKey: delta.tagsKey,
      ...(delta.tags === undefined ? {} : { tags: { ...delta.tags } }),
      quantity: (previous?.quantity ?? 0) + delta.quantity,
    };
    if (index >= 0) entry.allocations[index] = row;
    // A push onto an empty array reserves room for 17 rows; most records keep one.
    else if (entry.allocations.length === 0) entry.allocations = [row];
    else entry.allocations.push(row);
    if (entry.record.state !== 'open') late.push(delta);
  }

  async setTotal(total: FinalTotal, now: number): Promise<SetTotalResult> {
    this.assertOpen();
    const id = recordId(total.customerKey, total.dimension, total.hour);
    const existing = this.records.get(id);
    if (existing !== undefined) {
      const { frozen } = existing.record;
      if (existing.record.source === 'total' && frozen !== undefined && sameFrozenUsage(frozen, total.usage)) {
        return { outcome: 'unchanged' };
      }
      return { outcome: 'conflict', existing: snapshot(existing) };
    }
    const allocations = allocationRowsOf(total.usage);
    const entry: MemoryRecord = {
      record: {
        id,
        customer: { ...total.customer },
        customerKey: total.customerKey,
        productCode: total.productCode,
        dimension: total.dimension,
        hour: total.hour,
        state: 'pending',
        quantity: total.usage.quantity,
        frozen: structuredClone(total.usage),
        source: 'total',
        attempts: 0,
        mayHaveLanded: false,
        nextAttemptAt: now,
      },
      allocations,
      queueTicket: 0,
    };
    this.records.set(id, entry);
    this.claimQueue.add(entry, now, now);
    addToIndex(this.unsettledByCustomer, entry.record.customerKey, entry);
    return { outcome: 'created' };
  }

  /**
   * Freezes the due open records (found through the open-record indexes, a slice at a time, yielding to the event
   * loop between slices), then leases the first `limit` claimable ones in one synchronous step: the forced customers'
   * (few) records sorted, then the rest taken from the claim queue, O(limit log n) without visiting the others.
   */
  async claim(request: ClaimRequest): Promise<StoredRecord[]> {
    this.assertOpen();
    const forced = new Set(request.forceCustomerKeys ?? []);
    await this.freezeDue(request.dueBefore, forced, request.now);
    this.assertOpen();
    const limit = Math.max(0, request.limit);
    this.queueEndedLeases(request.now);
    const chosen = this.forcedClaimable(forced, request.now).slice(0, limit);
    chosen.forEach((entry) => this.claimQueue.remove(entry));
    chosen.push(...this.claimQueue.take(request.now, limit - chosen.length));
    return chosen.map((entry) => {
      this.unlease(entry);
      entry.record.state = 'sending';
      entry.record.leaseOwner = request.owner;
      entry.record.leaseUntil = request.now + request.leaseMs;
      addToIndex(this.sendingByLease, entry.record.leaseUntil, entry);
      return snapshot(entry);
    });
  }

  /** The forced customers' pending records due at `now` and sending ones whose lease ended, by hour then id. */
  private forcedClaimable(forced: ReadonlySet<string>, now: number): MemoryRecord[] {
    const found: MemoryRecord[] = [];
    for (const key of forced) {
      for (const entry of this.unsettledByCustomer.get(key) ?? []) {
        const { state, nextAttemptAt, leaseUntil } = entry.record;
        if ((state === 'pending' && nextAttemptAt <= now) || (state === 'sending' && leaseUntil !== undefined && leaseUntil <= now)) found.push(entry);
      }
    }
    return found.sort((a, b) => a.record.hour - b.record.hour || compareKeys(a.record.id, b.record.id));
  }

  /** Moves the sending records whose lease ended from the lease index to the claim queue. */
  private queueEndedLeases(now: number): void {
    for (const [leaseUntil, entries] of this.sendingByLease) {
      if (leaseUntil > now) continue;
      this.sendingByLease.delete(leaseUntil);
      for (const entry of entries) this.claimQueue.add(entry, leaseUntil, now);
    }
  }

  /** Takes a sending record out of the lease index (before its lease is cleared or renewed). */
  private unlease(entry: MemoryRecord): void {
    const { leaseUntil } = entry.record;
    if (entry.record.state === 'sending' && leaseUntil !== undefined) removeFromIndex(this.sendingByLease, leaseUntil, entry);
  }

  /**
   * Freezes the open records of hours before `dueBefore` and of the forced customers. Another call may run between
   * two slices: a record is frozen once, and usage reaching it after is late, as after any claim.
   */
  private async freezeDue(dueBefore: number, forced: ReadonlySet<string>, now: number): Promise<void> {
    const due: Array<Set<MemoryRecord>> = [];
    for (const [hour, records] of this.openByHour) if (hour < dueBefore) due.push(records);
    for (const key of forced) {
      const records = this.unsettledByCustomer.get(key);
      if (records !== undefined) due.push(records);
    }
    let frozen = 0;
    for (const records of due) {
      // freeze() deletes the record from its hour's set while that set is iterated, which a Set allows.
      for (const entry of records) {
        if (entry.record.state !== 'open') continue;
        if (frozen > 0 && frozen % SLICE === 0) {
          await yieldToEventLoop();
          this.assertOpen();
          if (entry.record.state !== 'open') continue;
        }
        this.freeze(entry, now);
        frozen++;
      }
    }
  }

  private freeze(entry: MemoryRecord, now: number): void {
    const { record } = entry;
    record.state = 'pending';
    record.frozen = frozenUsageFromAllocations(entry.allocations);
    record.nextAttemptAt = now;
    removeFromIndex(this.openByHour, record.hour, entry);
    this.claimQueue.add(entry, now, now);
  }

  /** Lets the event loop turn before every SLICE-th item but the first, then checks the store is still open. */
  private async between(index: number): Promise<void> {
    if (index === 0 || index % SLICE !== 0) return;
    await yieldToEventLoop();
    this.assertOpen();
  }

  async journal(ids: readonly string[], owner: string, now: number): Promise<string[]> {
    this.assertOpen();
    const journaled = new Set<string>();
    for (const [index, id] of ids.entries()) {
      await this.between(index);
      const record = this.leasedRecord(id, owner);
      // A lease that ran out may be another instance's by now: no call is made under it.
      if (record === undefined || journaled.has(id) || (record.leaseUntil ?? 0) <= now) continue;
      record.attempts += 1;
      record.lastAttemptAt = now;
      record.mayHaveLanded = true;
      journaled.add(id);
    }
    return [...journaled];
  }

  async clearMayHaveLanded(ids: readonly string[], owner: string): Promise<void> {
    this.assertOpen();
    for (const [index, id] of ids.entries()) {
      await this.between(index);
      const record = this.leasedRecord(id, owner);
      if (record !== undefined) record.mayHaveLanded = false;
    }
  }

  async settle(settlements: readonly Settlement[], owner: string, now: number): Promise<void> {
    this.assertOpen();
    settlements.forEach((settlement) => assertTerminalState(settlement.state));
    for (const [index, settlement] of settlements.entries()) {
      await this.between(index);
      const record = this.leasedRecord(settlement.id, owner);
      if (record === undefined) continue;
      const entry = this.records.get(settlement.id)!;
      this.unlease(entry);
      this.claimQueue.remove(entry);
      removeFromIndex(this.unsettledByCustomer, record.customerKey, entry);
      clearLease(record);
      record.state = settlement.state;
      record.settledAt = now;
      setOptional(record, 'meteringRecordId', settlement.meteringRecordId);
      setOptional(record, 'reason', settlement.reason);
    }
  }

  async release(releases: readonly Release[], owner: string): Promise<void> {
    this.assertOpen();
    for (const [index, release] of releases.entries()) {
      await this.between(index);
      const record = this.leasedRecord(release.id, owner);
      if (record === undefined) continue;
      const entry = this.records.get(release.id)!;
      this.unlease(entry);
      this.claimQueue.add(entry, release.nextAttemptAt);
      clearLease(record);
      record.state = 'pending';
      record.nextAttemptAt = release.nextAttemptAt;
      setOptional(record, 'reason', release.reason);
    }
  }

  async redrive(ids: readonly string[], now: number): Promise<string[]> {
    this.assertOpen();
    const moved: string[] = [];
    for (const [index, id] of [...new Set(ids)].entries()) {
      await this.between(index);
      const entry = this.records.get(id);
      const record = entry?.record;
      if (entry === undefined || record === undefined || !REDRIVABLE_STATES.includes(record.state)) continue;
      this.claimQueue.add(entry, now, now);
      addToIndex(this.unsettledByCustomer, record.customerKey, entry);
      record.state = 'pending';
      record.nextAttemptAt = now;
      delete record.settledAt;
      delete record.reason;
      delete record.meteringRecordId;
      moved.push(id);
    }
    return moved;
  }

  async takeSendSlot(scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
    this.assertOpen();
    assertSendSlotRequest(scope, now, capacity, windowMs);
    const decision = nextSendSlot(this.sendSlots.get(scope) ?? [], now, capacity, windowMs);
    if (!decision.granted) return decision.waitMs;
    this.sendSlots.set(scope, decision.ring);
    return 0;
  }

  async extendSendSlot(scope: string, grantedAt: number, until: number): Promise<void> {
    this.assertOpen();
    assertExtendSendSlotRequest(scope, grantedAt, until);
    const ring = extendSendSlotRing(this.sendSlots.get(scope) ?? [], grantedAt, until);
    if (ring !== undefined) this.sendSlots.set(scope, ring);
  }

  async listRecords(query: RecordQuery = {}): Promise<StoredRecord[]> {
    this.assertOpen();
    const states = query.states === undefined ? undefined : new Set(query.states);
    const matching = [...this.records.values()].filter(
      ({ record }) =>
        (states === undefined || states.has(record.state)) &&
        (query.customerKey === undefined || record.customerKey === query.customerKey) &&
        (query.hourFrom === undefined || record.hour >= query.hourFrom) &&
        (query.hourTo === undefined || record.hour < query.hourTo),
    );
    matching.sort((a, b) => a.record.hour - b.record.hour || compareKeys(a.record.id, b.record.id));
    const limited = query.limit === undefined ? matching : matching.slice(0, Math.max(0, query.limit));
    return limited.map(snapshot);
  }

  /** Visits every record, a slice at a time, yielding to the event loop between slices. */
  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const countsByState = Object.fromEntries(ALL_STATES.map((state) => [state, 0])) as Record<RecordState, number>;
    const byHour = new Map<number, { records: number; quantity: number }>();
    let lateQuantity = 0;
    let lastSentAt: number | undefined;
    let visited = 0;
    for (const { record } of this.records.values()) {
      if (++visited % SLICE === 0) {
        await yieldToEventLoop();
        this.assertOpen();
      }
      countsByState[record.state] += 1;
      if (record.state === 'sent' && record.settledAt !== undefined && (lastSentAt === undefined || record.settledAt > lastSentAt)) lastSentAt = record.settledAt;
      if (record.frozen !== undefined) lateQuantity += record.quantity - record.frozen.quantity;
      if (!UNSETTLED_STATES.has(record.state)) continue;
      const hour = byHour.get(record.hour) ?? { records: 0, quantity: 0 };
      hour.records += 1;
      hour.quantity += record.quantity;
      byHour.set(record.hour, hour);
    }
    const unsettledByHour: HourStats[] = [...byHour.entries()]
      .sort(([a], [b]) => a - b)
      .map(([hour, totals]) => ({ hour, ...totals }));
    return { unsettledByHour, countsByState, lateQuantity, lastSentAt };
  }

  async putCustomer(customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
    this.assertOpen();
    const before = this.customers.get(customer.key);
    if (!satisfies(condition, before?.version)) return false;
    const written: CustomerRecord = { ...structuredClone(customer), version: (before?.version ?? 0) + 1 };
    this.customers.set(customer.key, written);
    this.customerIndex.update(before, written);
    return true;
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    this.assertOpen();
    const customer = this.customers.get(key);
    return customer === undefined ? undefined : structuredClone(customer);
  }

  async findCustomerByTenant(tenantId: string): Promise<CustomerRecord | undefined> {
    this.assertOpen();
    const candidates = [...this.customers.values()].filter((customer) => customer.tenantId === tenantId);
    candidates.sort((a, b) => b.updatedAt - a.updatedAt || compareKeys(a.key, b.key));
    return candidates[0] === undefined ? undefined : structuredClone(candidates[0]);
  }

  async listCustomers(): Promise<CustomerRecord[]> {
    this.assertOpen();
    return [...this.customers.values()].sort((a, b) => compareKeys(a.key, b.key)).map((c) => structuredClone(c));
  }

  async findCustomers(query: CustomerQuery): Promise<CustomerRecord[]> {
    this.assertOpen();
    const found: CustomerRecord[] = [];
    if (query.limit < 1) return found;
    for (const key of this.customerIndex.candidates(query, query.after)) {
      const customer = this.customers.get(key)!;
      if (!matchesCustomerFilter(customer, query)) continue;
      found.push(structuredClone(customer));
      if (found.length >= query.limit) break;
    }
    return found;
  }

  private recordFor(delta: UsageDelta): MemoryRecord {
    const id = recordId(delta.customerKey, delta.dimension, delta.hour);
    let entry = this.records.get(id);
    if (entry === undefined) {
      entry = {
        record: {
          id,
          customer: { ...delta.customer },
          customerKey: delta.customerKey,
          productCode: delta.productCode,
          dimension: delta.dimension,
          hour: delta.hour,
          state: 'open',
          quantity: 0,
          source: 'metered',
          attempts: 0,
          mayHaveLanded: false,
          nextAttemptAt: 0,
        },
        allocations: [],
        queueTicket: 0,
      };
      this.records.set(id, entry);
      addToIndex(this.openByHour, delta.hour, entry);
      addToIndex(this.unsettledByCustomer, delta.customerKey, entry);
    }
    return entry;
  }

  private leasedRecord(id: string, owner: string): Mutable<StoredRecord> | undefined {
    const record = this.records.get(id)?.record;
    return record?.state === 'sending' && record.leaseOwner === owner ? record : undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new MeterkitError(ErrorCodes.CLOSED, 'The memory store is closed');
  }
}

function addToIndex<K>(index: Map<K, Set<MemoryRecord>>, key: K, entry: MemoryRecord): void {
  let entries = index.get(key);
  if (entries === undefined) {
    entries = new Set();
    index.set(key, entries);
  }
  entries.add(entry);
}

function removeFromIndex<K>(index: Map<K, Set<MemoryRecord>>, key: K, entry: MemoryRecord): void {
  const entries = index.get(key);
  if (entries === undefined) return;
  entries.delete(entry);
  if (entries.size === 0) index.delete(key);
}

/** A copy of the record sharing nothing mutable with it (its values are strings, numbers and these objects). */
function snapshot(entry: MemoryRecord): StoredRecord {
  const { record } = entry;
  const { frozen } = record;
  return {
    ...record,
    customer: { ...record.customer },
    ...(frozen === undefined
      ? {}
      : { frozen: { quantity: frozen.quantity, allocations: frozen.allocations.map((a) => (a.tags === undefined ? { ...a } : { ...a, tags: { ...a.tags } })) } }),
  };
}

function clearLease(record: Mutable<StoredRecord>): void {
  delete record.leaseOwner;
  delete record.leaseUntil;
}

function setOptional<K extends 'meteringRecordId' | 'reason'>(
  record: Mutable<StoredRecord>,
  key: K,
  value: string | undefined,
): void {
  if (value === undefined) delete record[key];
  else record[key] = value;
}
