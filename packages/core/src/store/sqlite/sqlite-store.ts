import type Database from 'better-sqlite3';
import { ErrorCodes, MeterkitError, isMeterkitError } from '../../errors';
import type { EntitlementSet } from '../../contracts/entitlement-set';
import type { CustomerRecord } from '../../model/customer';
import type { FinalTotal, UsageDelta } from '../../model/usage';
import {
  allocationRowsOf,
  compareKeys,
  assertStorableDelta,
  assertTerminalState,
  frozenUsageFromAllocations,
  sameFrozenUsage,
} from '../frozen-usage';
import { TERMINAL_STATES, recordId } from '../usage-store';
import type {
  AddUsageResult,
  ClaimRequest,
  CustomerQuery,
  CustomerWriteCondition,
  RecordQuery,
  RecordState,
  Release,
  SetTotalResult,
  Settlement,
  StoreStats,
  StoredRecord,
  UsageStore,
} from '../usage-store';
import { assertStorableEntitlementSet, assertStorableUse, meteredAbove } from '../allowance';
import type { AddUsageAboveIncludedResult, AllowanceCounter, EntitlementStore, IncludedUse } from '../entitlement-store';
import type { SqliteConnection } from './connection';
import { loadSqliteDriver } from './driver';
import { toAllocationRow, toAllowanceCounter, toCustomerRecord, toStoredRecord } from './rows';
import { migrate } from './schema';
import { yieldToEventLoop } from '../yield-to-event-loop';
import { assertExtendSendSlotRequest, assertSendSlotRequest, extendSendSlotRing, nextSendSlot } from '../../send/send-slot-ring';
import { prepareStatements } from './statements';
import { batchIds } from './batch-ids';
import { customerQueries } from './customer-queries';
import { customerLicenseId } from '../customer-pages';
import type { ClaimableRow, Statements } from './statements';

export interface SqliteStoreOptions {
  /** Database file; default `./meterkit.db`. */
  readonly path?: string;
  /** How long a write waits for another connection's lock; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * When a commit reaches the disk (SQLite's `synchronous`, in WAL mode); default `'normal'`.
   * - `'normal'`: a commit is in the write-ahead log when it returns, so it survives the process being killed
   *   (SIGKILL, a crash); the log is synced to disk at each checkpoint, so a power loss or an operating-system crash
   *   can take the commits made since the last one (the file stays consistent). No fsync per transaction.
   * - `'full'`: every commit is synced to disk before it returns: it survives power loss too, at one fsync per
   *   transaction, on the event loop (better-sqlite3 is synchronous).
   * Applies to a connection the store is given too. See docs/decisions.md (durability).
   */
  readonly synchronous?: SqliteSynchronous;
  /**
   * Pages of write-ahead log (4 KiB each) after which a commit copies the log into the database file (SQLite's
   * `wal_autocheckpoint`), 1 to 100000; default 200. The copy and its fsyncs run inside that commit, on the event
   * loop (better-sqlite3 is synchronous): at SQLite's own default of 1000 pages each held it about 20 ms, at 200 about
   * 7 ms, for the same total time of a persist of 100,000 aggregates. A connection the store is given keeps its own
   * setting. See docs/decisions.md (background work).
   */
  readonly checkpointPages?: number;
}

export type SqliteSynchronous = 'normal' | 'full';

const SYNCHRONOUS_MODES: readonly SqliteSynchronous[] = ['normal', 'full'];
const DEFAULT_CHECKPOINT_PAGES = 200;
const MAX_CHECKPOINT_PAGES = 100_000;

/**
 * Records frozen, or leased, per transaction of a claim, and records per transaction of journal, settle, release
 * and redrive: each transaction is one synchronous step of a few milliseconds, and the store yields to the event
 * loop between two of them.
 */
const CHUNK = 100;

const ALL_STATES: readonly RecordState[] = ['open', 'pending', 'sending', ...TERMINAL_STATES];

/**
 * The embedded durable store for a single app instance: one SQLite file in WAL mode.
 * Several connections (processes) may share the file; every write runs in a `BEGIN IMMEDIATE` transaction.
 */
export class SqliteStore implements UsageStore, EntitlementStore {
  readonly kind = 'sqlite';
  readonly durable = true;

  private readonly path: string;
  /** Undefined for a connection the caller gave: its own busy timeout stands. */
  private readonly busyTimeoutMs: number | undefined;
  private readonly synchronous: SqliteSynchronous;
  /** Undefined for a connection the caller gave: its own checkpoint setting stands. */
  private readonly checkpointPages: number | undefined;
  private readonly ownsDatabase: boolean;
  private db: Database.Database | undefined;
  private operations: Operations | undefined;
  private closed = false;

  /**
   * Takes options (the store opens and closes its own connection) or a better-sqlite3 connection the caller keeps.
   * better-sqlite3 is an optional peer dependency, loaded by open() when the store opens its own connection.
   */
  constructor(options: SqliteStoreOptions | SqliteConnection = {}) {
    if (isDatabase(options)) {
      this.db = options as Database.Database;
      this.ownsDatabase = false;
      this.path = options.name;
      this.busyTimeoutMs = undefined;
      this.synchronous = 'normal';
      this.checkpointPages = undefined;
    } else {
      this.ownsDatabase = true;
      this.path = options.path ?? './meterkit.db';
      this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
      this.synchronous = synchronousOf(options.synchronous);
      this.checkpointPages = checkpointPagesOf(options.checkpointPages);
    }
  }

  async open(): Promise<void> {
    if (this.closed) throw closedError();
    if (this.operations !== undefined) return;
    const db = this.db ?? new (loadSqliteDriver())(this.path);
    try {
      if (this.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(this.busyTimeoutMs))}`);
      db.pragma('journal_mode = WAL');
      if (this.checkpointPages !== undefined) db.pragma(`wal_autocheckpoint = ${this.checkpointPages}`);
      db.pragma(`synchronous = ${this.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      this.operations = createOperations(db, prepareStatements(db));
      this.db = db;
    } catch (error) {
      if (this.ownsDatabase) db.close();
      throw asStoreError(error, 'open the SQLite store');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.operations = undefined;
    if (this.ownsDatabase) this.db?.close();
    this.db = undefined;
  }

  async addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    deltas.forEach(assertStorableDelta);
    return this.run('add usage', (ops) => ops.addUsage(deltas, batchId ?? null, Date.now()));
  }

  async addUsageAboveIncluded(
    deltas: readonly UsageDelta[],
    uses: readonly IncludedUse[],
    batchId: string,
  ): Promise<AddUsageAboveIncludedResult> {
    deltas.forEach(assertStorableDelta);
    uses.forEach(assertStorableUse);
    return this.run('add usage above what is included', (ops) => ops.addUsageAboveIncluded(deltas, uses, batchId, Date.now()));
  }

  async putEntitlements(set: EntitlementSet): Promise<boolean> {
    assertStorableEntitlementSet(set);
    return this.run('store an entitlement set', (ops) => ops.putEntitlements(set));
  }

  async getEntitlements(customerKey: string): Promise<EntitlementSet | undefined> {
    return this.run('read an entitlement set', (ops) => ops.getEntitlements(customerKey));
  }

  async listEntitlements(): Promise<EntitlementSet[]> {
    return this.run('list entitlement sets', (ops) => ops.listEntitlements());
  }

  async listAllowanceCounters(customerKey: string): Promise<AllowanceCounter[]> {
    return this.run('list allowance counters', (ops) => ops.listAllowanceCounters(customerKey));
  }

  async setTotal(total: FinalTotal, now: number): Promise<SetTotalResult> {
    return this.run('set a total', (ops) => ops.setTotal(total, now));
  }

  /**
   * Freezes the due open records in transactions of at most CHUNK records, then leases in transactions of at most
   * CHUNK records, yielding to the event loop before each transaction but the first. Each record is frozen atomically
   * with the snapshot of its allocations and leased atomically, so the claim freezes and leases the same records as
   * one transaction would; the caller gets the union of its sub-claims, in their order. A record another claim
   * leases between two sub-claims is in that claim only. If a sub-claim fails, the records of the earlier ones are
   * handed back (released, due at once) before the error is thrown.
   */
  async claim(request: ClaimRequest): Promise<StoredRecord[]> {
    const forced = JSON.stringify(request.forceCustomerKeys ?? []);
    const turns = new Turns();
    for (;;) {
      await turns.next();
      if (this.run('freeze due records', (ops) => ops.freezeDue(request, forced, CHUNK)) < CHUNK) break;
    }
    const limit = Math.max(0, request.limit);
    const claimed: StoredRecord[] = [];
    const ids = new Set<string>();
    try {
      while (claimed.length < limit) {
        await turns.next();
        const size = Math.min(CHUNK, limit - claimed.length);
        const leased = this.run('claim records', (ops) => ops.claim(request, forced, size));
        // A lease that ends at once (leaseMs 0) makes the records claimable again: each is answered once.
        const fresh = leased.filter(({ id }) => !ids.has(id));
        for (const record of fresh) ids.add(record.id);
        claimed.push(...fresh);
        if (leased.length < size || fresh.length < leased.length) break;
      }
    } catch (error) {
      this.handBack(claimed, request);
      throw error;
    }
    return claimed;
  }

  /** Best effort: a claim that failed part-way releases what it leased, which otherwise waits for its lease to end. */
  private handBack(claimed: readonly StoredRecord[], request: ClaimRequest): void {
    try {
      if (claimed.length > 0) this.operations?.release(claimed.map(({ id }) => ({ id, nextAttemptAt: request.now })), request.owner);
    } catch {
      // The leases end at request.now + leaseMs; the next claim after that takes the records.
    }
  }

  async journal(ids: readonly string[], owner: string, now: number): Promise<string[]> {
    const journaled: string[] = [];
    for await (const chunk of chunksOf([...new Set(ids)])) journaled.push(...this.run('journal attempts', (ops) => ops.journal(chunk, owner, now)));
    return journaled;
  }

  async clearMayHaveLanded(ids: readonly string[], owner: string): Promise<void> {
    for await (const chunk of chunksOf(ids)) this.run('clear may-have-landed marks', (ops) => ops.clearMayHaveLanded(chunk, owner));
  }

  async settle(settlements: readonly Settlement[], owner: string, now: number): Promise<void> {
    settlements.forEach((settlement) => assertTerminalState(settlement.state));
    for await (const chunk of chunksOf(settlements)) this.run('settle records', (ops) => ops.settle(chunk, owner, now));
  }

  async release(releases: readonly Release[], owner: string): Promise<void> {
    for await (const chunk of chunksOf(releases)) this.run('release records', (ops) => ops.release(chunk, owner));
  }

  async redrive(ids: readonly string[], now: number): Promise<string[]> {
    const moved: string[] = [];
    for await (const chunk of chunksOf([...new Set(ids)])) moved.push(...this.run('redrive records', (ops) => ops.redrive(chunk, now)));
    return moved;
  }

  async takeSendSlot(scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
    assertSendSlotRequest(scope, now, capacity, windowMs);
    return this.run('take a send slot', (ops) => ops.takeSendSlot(scope, now, capacity, windowMs));
  }

  async extendSendSlot(scope: string, grantedAt: number, until: number): Promise<void> {
    assertExtendSendSlotRequest(scope, grantedAt, until);
    this.run('extend a send slot', (ops) => ops.extendSendSlot(scope, grantedAt, until));
  }

  async listRecords(query: RecordQuery = {}): Promise<StoredRecord[]> {
    return this.run('list records', (ops) => ops.listRecords(query));
  }

  async stats(): Promise<StoreStats> {
    return this.run('read stats', (ops) => ops.stats());
  }

  async putCustomer(customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
    return this.run('store a customer', (ops) => ops.putCustomer(customer, condition));
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    return this.run('read a customer', (ops) => ops.getCustomer(key));
  }

  async findCustomerByTenant(tenantId: string): Promise<CustomerRecord | undefined> {
    return this.run('find a customer', (ops) => ops.findCustomerByTenant(tenantId));
  }

  async listCustomers(): Promise<CustomerRecord[]> {
    return this.run('list customers', (ops) => ops.listCustomers());
  }

  async findCustomers(query: CustomerQuery): Promise<CustomerRecord[]> {
    return this.run('find customers', (ops) => ops.findCustomers(query));
  }

  private run<T>(action: string, work: (ops: Operations) => T): T {
    if (this.closed) throw closedError();
    if (this.operations === undefined) {
      throw new MeterkitError(ErrorCodes.STORE, `Cannot ${action}: call open() on the SQLite store first`);
    }
    try {
      return work(this.operations);
    } catch (error) {
      throw asStoreError(error, action);
    }
  }
}

type Operations = ReturnType<typeof createOperations>;

/** The store's operations on one open connection, each in one transaction. */
function createOperations(db: Database.Database, sql: Statements) {
  const frozenSnapshot = (id: string) => frozenUsageFromAllocations(sql.allocationsOf.all(id).map(toAllocationRow));
  /** Adds to a record's allocation of one tag set, created if needed. */
  const addToAllocation = (recordId: string, tagsKey: string, tags: UsageDelta['tags'], quantity: number): void => {
    if (sql.addToAllocation.run(quantity, recordId, tagsKey).changes > 0) return;
    sql.insertAllocation.run({ recordId, tagsKey, tags: tags === undefined ? null : JSON.stringify(tags), quantity });
  };
  /** Adds one delta to its record (created open if needed); a delta reaching a frozen record goes to `late`. */
  const addDelta = (delta: UsageDelta, late: UsageDelta[]): void => {
    const id = recordId(delta.customerKey, delta.dimension, delta.hour);
    const existing = sql.addToRecord.get(delta.quantity, id);
    if (existing === undefined) {
      sql.insertRecord.run({
        id,
        customerKey: delta.customerKey,
        productCode: delta.productCode,
        customer: JSON.stringify(delta.customer),
        dimension: delta.dimension,
        hour: delta.hour,
        quantity: delta.quantity,
      });
    }
    addToAllocation(id, delta.tagsKey, delta.tags, delta.quantity);
    if (existing !== undefined && existing.state !== 'open') late.push(delta);
  };
  const batches = batchIds(sql);

  return {
    addUsage: db.transaction((deltas: readonly UsageDelta[], batchId: string | null, now: number): AddUsageResult => {
      if (batchId !== null && !batches.record(batchId, now)) return { late: [], applied: false };
      const late: UsageDelta[] = [];
      for (const delta of deltas) addDelta(delta, late);
      return { late };
    }).immediate,

    addUsageAboveIncluded: db.transaction(
      (deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string, now: number): AddUsageAboveIncludedResult => {
        if (!batches.record(batchId, now)) return { late: [], applied: false, metered: [] };
        const late: UsageDelta[] = [];
        for (const delta of deltas) addDelta(delta, late);
        const metered = uses.map((use) => {
          const quantity = use.delta.quantity;
          const counter = sql.addToAllowance.get({
            customerKey: use.delta.customerKey,
            allowanceDimension: use.allowanceDimension,
            periodStart: use.periodStart,
            quantity,
          });
          const used = (counter?.used ?? quantity) - quantity;
          const part = meteredAbove(used, quantity, use.included);
          if (part > 0) addDelta({ ...use.delta, quantity: part }, late);
          return part;
        });
        return { late, applied: true, metered };
      },
    ).immediate,

    putEntitlements: (set: EntitlementSet): boolean =>
      sql.putEntitlements.run({ customerKey: set.customerKey, fetchedAt: set.fetchedAt, set: JSON.stringify(set) }).changes === 1,
    getEntitlements: (customerKey: string): EntitlementSet | undefined => {
      const row = sql.entitlementsOf.get(customerKey);
      return row === undefined ? undefined : (JSON.parse(row.entitlement_set) as EntitlementSet);
    },
    listEntitlements: (): EntitlementSet[] => sql.entitlementSets.all().map((row) => JSON.parse(row.entitlement_set) as EntitlementSet),
    listAllowanceCounters: (customerKey: string): AllowanceCounter[] => sql.allowanceCountersOf.all(customerKey).map(toAllowanceCounter),

    setTotal: db.transaction((total: FinalTotal, now: number): SetTotalResult => {
      const id = recordId(total.customerKey, total.dimension, total.hour);
      const existing = sql.recordById.get(id);
      if (existing !== undefined) {
        const record = toStoredRecord(existing);
        const same = record.source === 'total' && record.frozen !== undefined && sameFrozenUsage(record.frozen, total.usage);
        return same ? { outcome: 'unchanged' } : { outcome: 'conflict', existing: record };
      }
      sql.insertTotal.run({
        id,
        customerKey: total.customerKey,
        productCode: total.productCode,
        customer: JSON.stringify(total.customer),
        dimension: total.dimension,
        hour: total.hour,
        quantity: total.usage.quantity,
        frozen: JSON.stringify(total.usage),
        now,
      });
      for (const row of allocationRowsOf(total.usage)) addToAllocation(id, row.tagsKey, row.tags, row.quantity);
      return { outcome: 'created' };
    }).immediate,

    /** Freezes up to `limit` due open records, forced customers' first; answers how many it froze. */
    freezeDue: db.transaction((request: ClaimRequest, forced: string, limit: number): number => {
      let frozen = 0;
      const freeze = (rows: ReadonlyArray<{ id: string }>) => {
        for (const { id } of rows) frozen += sql.freeze.run({ id, frozen: JSON.stringify(frozenSnapshot(id)), now: request.now }).changes;
      };
      freeze(sql.forcedOpenRecords.all({ forced, limit }));
      if (frozen < limit) freeze(sql.dueOpenRecords.all({ dueBefore: request.dueBefore, limit: limit - frozen }));
      return frozen;
    }).immediate,

    /** Leases up to `limit` claimable records, forced customers' first, then by hour and id. */
    claim: db.transaction((request: ClaimRequest, forced: string, limit: number): StoredRecord[] => {
      if (limit <= 0) return [];
      const leaseUntil = request.now + request.leaseMs;
      const first = sql.forcedClaimable.all({ now: request.now, forced, limit });
      const taken = new Set(first.map((row) => row.id));
      const rest = mergeByHourAndId(
        sql.pendingClaimable.all({ now: request.now, limit: limit + taken.size }),
        sql.expiredLeases.all({ now: request.now, limit: limit + taken.size }),
      ).filter((row) => !taken.has(row.id));
      return [...first, ...rest].slice(0, limit).flatMap(({ id }) => {
        const leased = sql.lease.get({ id, owner: request.owner, leaseUntil });
        return leased === undefined ? [] : [toStoredRecord(leased)];
      });
    }).immediate,

    journal: db.transaction((ids: readonly string[], owner: string, now: number): string[] =>
      ids.filter((id) => sql.journal.run({ id, owner, now }).changes === 1),
    ).immediate,

    clearMayHaveLanded: db.transaction((ids: readonly string[], owner: string): void => {
      for (const id of ids) sql.clearMayHaveLanded.run({ id, owner });
    }).immediate,

    settle: db.transaction((settlements: readonly Settlement[], owner: string, now: number): void => {
      for (const settlement of settlements) {
        sql.settle.run({
          id: settlement.id,
          owner,
          state: settlement.state,
          now,
          meteringRecordId: settlement.meteringRecordId ?? null,
          reason: settlement.reason ?? null,
        });
      }
    }).immediate,

    release: db.transaction((releases: readonly Release[], owner: string): void => {
      for (const release of releases) {
        sql.release.run({ id: release.id, owner, nextAttemptAt: release.nextAttemptAt, reason: release.reason ?? null });
      }
    }).immediate,

    redrive: db.transaction((ids: readonly string[], now: number): string[] =>
      ids.filter((id) => sql.redrive.run({ id, now }).changes === 1),
    ).immediate,

    takeSendSlot: db.transaction((scope: string, now: number, capacity: number, windowMs: number): number => {
      const stored = sql.sendSlotsOf.get(scope);
      const decision = nextSendSlot(stored === undefined ? [] : (JSON.parse(stored.times) as number[]), now, capacity, windowMs);
      if (!decision.granted) return decision.waitMs;
      sql.putSendSlots.run({ scope, times: JSON.stringify(decision.ring) });
      return 0;
    }).immediate,

    extendSendSlot: db.transaction((scope: string, grantedAt: number, until: number): void => {
      const stored = sql.sendSlotsOf.get(scope);
      if (stored === undefined) return;
      const ring = extendSendSlotRing(JSON.parse(stored.times) as number[], grantedAt, until);
      if (ring !== undefined) sql.putSendSlots.run({ scope, times: JSON.stringify(ring) });
    }).immediate,

    listRecords: (query: RecordQuery): StoredRecord[] =>
      sql.listRecords
        .all({
          states: query.states === undefined ? null : JSON.stringify(query.states),
          customerKey: query.customerKey ?? null,
          hourFrom: query.hourFrom ?? null,
          hourTo: query.hourTo ?? null,
          limit: query.limit === undefined ? -1 : Math.max(0, query.limit),
        })
        .map(toStoredRecord),

    stats: db.transaction((): StoreStats => {
      const countsByState = Object.fromEntries(ALL_STATES.map((state) => [state, 0])) as Record<RecordState, number>;
      for (const { state, count } of sql.countsByState.all()) countsByState[state as RecordState] = count;
      return {
        unsettledByHour: sql.unsettledByHour.all(),
        countsByState,
        lateQuantity: sql.lateQuantity.get()?.late ?? 0,
        lastSentAt: sql.lastSentAt.get()?.last ?? undefined,
      };
    }).deferred,

    putCustomer: (customer: CustomerRecord, condition: CustomerWriteCondition | undefined): boolean => {
      const { version: _assigned, ...record } = customer;
      const params = {
        key: customer.key,
        tenantId: customer.tenantId ?? null,
        updatedAt: customer.updatedAt,
        record: JSON.stringify(record),
        licenseId: customerLicenseId(customer) ?? null,
      };
      if (condition === undefined) return sql.putCustomer.run(params).changes === 1;
      if (condition.expectedVersion === undefined) return sql.insertCustomer.run(params).changes === 1;
      return sql.replaceCustomerVersion.run({ ...params, expectedVersion: condition.expectedVersion }).changes === 1;
    },
    getCustomer: (key: string): CustomerRecord | undefined => {
      const row = sql.customerByKey.get(key);
      return row === undefined ? undefined : toCustomerRecord(row);
    },
    findCustomerByTenant: (tenantId: string): CustomerRecord | undefined => {
      const row = sql.customerByTenant.get(tenantId);
      return row === undefined ? undefined : toCustomerRecord(row);
    },
    listCustomers: (): CustomerRecord[] => sql.customers.all().map(toCustomerRecord),
    findCustomers: customerQueries(db),
  };
}

/** Spaces the steps of one call: every step but the first waits for the event loop to turn. */
class Turns {
  private first = true;

  async next(): Promise<void> {
    if (this.first) this.first = false;
    else await yieldToEventLoop();
  }
}

/** The items in chunks of at most CHUNK (one empty chunk for none), the event loop turning between two chunks. */
async function* chunksOf<T>(items: readonly T[]): AsyncGenerator<readonly T[]> {
  for (let start = 0; start === 0 || start < items.length; start += CHUNK) {
    if (start > 0) await yieldToEventLoop();
    yield items.slice(start, start + CHUNK);
  }
}

/** Two lists each in (hour, id) order, merged into one in that order. */
function mergeByHourAndId(a: readonly ClaimableRow[], b: readonly ClaimableRow[]): ClaimableRow[] {
  const merged: ClaimableRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && (x.hour < y.hour || (x.hour === y.hour && compareKeys(x.id, y.id) < 0)))) {
      merged.push(x!);
      i++;
    } else {
      merged.push(y);
      j++;
    }
  }
  return merged;
}

function synchronousOf(value: unknown): SqliteSynchronous {
  if (value === undefined) return 'normal';
  if (SYNCHRONOUS_MODES.includes(value as SqliteSynchronous)) return value as SqliteSynchronous;
  throw new MeterkitError(ErrorCodes.OPTIONS, `The SQLite store's synchronous must be 'normal' or 'full', got ${JSON.stringify(value)}.`, {
    details: { synchronous: String(value) },
  });
}

function checkpointPagesOf(value: unknown): number {
  if (value === undefined) return DEFAULT_CHECKPOINT_PAGES;
  if (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_CHECKPOINT_PAGES) return value as number;
  throw new MeterkitError(ErrorCodes.OPTIONS, `The SQLite store's checkpointPages must be a whole number in 1..${MAX_CHECKPOINT_PAGES}, got ${JSON.stringify(value)}.`, {
    details: { checkpointPages: String(value) },
  });
}

/** Duck-typed, so that a connection from another copy of better-sqlite3 is not mistaken for options. */
function isDatabase(value: SqliteStoreOptions | SqliteConnection): value is SqliteConnection {
  return typeof (value as Partial<SqliteConnection>).prepare === 'function';
}

function closedError(): MeterkitError {
  return new MeterkitError(ErrorCodes.CLOSED, 'The SQLite store is closed');
}

function asStoreError(error: unknown, action: string): MeterkitError {
  if (isMeterkitError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return new MeterkitError(ErrorCodes.STORE, `SQLite store failed to ${action}: ${message}`, {
    details: typeof code === 'string' ? { sqliteCode: code } : {},
    cause: error,
  });
}
