import type { CustomerRecord, CustomerIdentity, CustomerStatus } from '../model/customer';
import type { FinalTotal, FrozenUsage, UsageDelta } from '../model/usage';

/**
 * Life of one usage record (customer, dimension, hour):
 *   open ─freeze─▶ pending ─claim─▶ sending ─settle─▶ sent | not-subscribed | duplicate | rejected | expired | dry-run
 *                     ▲                 │
 *                     └──── release ────┘   (retry later; a lost lease is reclaimed after it expires)
 * `open` records still take increments; from `pending` on, the quantity is frozen.
 */
export type RecordState =
  | 'open'
  | 'pending'
  | 'sending'
  | 'sent'
  | 'not-subscribed'
  | 'duplicate'
  | 'rejected'
  | 'expired'
  | 'dry-run';

export type TerminalState = Exclude<RecordState, 'open' | 'pending' | 'sending'>;

/** The states redrive() moves back to pending. */
export const REDRIVABLE_STATES: readonly RecordState[] = ['rejected', 'not-subscribed', 'pending'];

export const TERMINAL_STATES: readonly TerminalState[] = [
  'sent',
  'not-subscribed',
  'duplicate',
  'rejected',
  'expired',
  'dry-run',
];

export interface StoredRecord {
  /** recordId(customerKey, dimension, hour) */
  readonly id: string;
  readonly customer: CustomerIdentity;
  readonly customerKey: string;
  readonly productCode: string;
  readonly dimension: string;
  /** Start of the UTC hour, ms epoch. */
  readonly hour: number;
  readonly state: RecordState;
  /** Live total of all increments, frozen or not. */
  readonly quantity: number;
  /** Set when the record leaves `open`; never changes afterwards. */
  readonly frozen?: FrozenUsage;
  /** `metered` for increments, `total` for a finalized total handed in by the seller. */
  readonly source: 'metered' | 'total';
  /** Number of journaled send attempts. */
  readonly attempts: number;
  /**
   * True when a call carrying this record may have reached AWS without a definite answer (5xx, network error,
   * timeout, reset, lost answer): AWS may already hold it, so a DuplicateRecord for it can be its own resend.
   * journal() sets it before each call; clearMayHaveLanded() takes it back when AWS definitely applied none of
   * the calls (throttled, refused with a 4xx, returned the record in UnprocessedRecords). False for new records.
   */
  readonly mayHaveLanded: boolean;
  readonly nextAttemptAt: number;
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
  readonly lastAttemptAt?: number;
  readonly settledAt?: number;
  readonly meteringRecordId?: string;
  /** Why a record ended rejected, expired, duplicate or not-subscribed, or why it was released. */
  readonly reason?: string;
}

export interface AddUsageResult {
  /** Deltas that reached a record already frozen: counted in `quantity`, not in what is sent. */
  readonly late: readonly UsageDelta[];
  /** False when the batch id had been applied before and nothing was added. */
  readonly applied?: boolean;
  /**
   * Deltas whose tags the store could not keep on their record (a store's bound on tag sets per record, as the
   * DynamoDB store's budget): counted in full, untagged. Omitted when there are none.
   */
  readonly untagged?: readonly UsageDelta[];
}

/** How long stores remember applied batch ids. */
export const BATCH_ID_RETENTION_MS = 7 * 24 * 3_600_000;

export type SetTotalResult =
  | { readonly outcome: 'created' | 'unchanged' }
  | { readonly outcome: 'conflict'; readonly existing: StoredRecord };

export interface ClaimRequest {
  readonly now: number;
  /** Open records whose hour starts before this are frozen and become due. */
  readonly dueBefore: number;
  /** All open records of these customers are frozen and due, current hour included (final-usage flush). */
  readonly forceCustomerKeys?: readonly string[];
  readonly owner: string;
  readonly leaseMs: number;
  readonly limit: number;
}

export interface Settlement {
  readonly id: string;
  readonly state: TerminalState;
  readonly meteringRecordId?: string;
  readonly reason?: string;
}

export interface Release {
  readonly id: string;
  readonly nextAttemptAt: number;
  readonly reason?: string;
}

export interface RecordQuery {
  readonly states?: readonly RecordState[];
  readonly customerKey?: string;
  readonly hourFrom?: number;
  /** Exclusive. */
  readonly hourTo?: number;
  readonly limit?: number;
}

export interface HourStats {
  readonly hour: number;
  readonly records: number;
  readonly quantity: number;
}

export interface StoreStats {
  /** Records not yet settled (open, pending, sending), per hour, oldest first. */
  readonly unsettledByHour: readonly HourStats[];
  readonly countsByState: Readonly<Record<RecordState, number>>;
  /** Units that arrived after their record was frozen. */
  readonly lateQuantity: number;
  /** The newest `settledAt` of a record AWS accepted (state `sent`), ms epoch; undefined when none was. */
  readonly lastSentAt: number | undefined;
}

/**
 * The durable home of usage, send attempts and the customer registry.
 * All methods are atomic. Stores used by several app instances must make claim() hand each record
 * to exactly one owner at a time; journal(), settle() and release() are fenced by the lease owner.
 * Run `describeUsageStoreConformance()` from `@meterkit/core/testing` to prove an implementation.
 */
export interface UsageStore {
  /** 'memory', 'sqlite', 'postgres', ... */
  readonly kind: string;
  /** False for stores that lose data on exit (MemoryStore); meterkit warns when they are used. */
  readonly durable: boolean;

  /** Creates or migrates the schema. Idempotent. */
  open(): Promise<void>;
  close(): Promise<void>;

  /**
   * Atomically adds every delta (all or none). Creates open records as needed. With a `batchId`, a batch already
   * applied under that id is not applied again (`applied: false`): a write whose answer was lost (the commit reached
   * the database, the connection did not survive) can be retried without counting twice. Stores keep applied batch
   * ids for at least a day.
   */
  addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult>;
  /**
   * Stores a finalized total as an already frozen, pending record. The same total again is `unchanged`;
   * a different one for a record that exists is a `conflict` and changes nothing.
   */
  setTotal(total: FinalTotal, now: number): Promise<SetTotalResult>;

  /**
   * Freezes due open records, then leases up to `limit` records that are pending (nextAttemptAt <= now)
   * or sending with an expired lease, forced customers first, then oldest hour first.
   */
  claim(request: ClaimRequest): Promise<StoredRecord[]>;
  /**
   * Before a call: counts a send attempt and sets mayHaveLanded for records still leased by `owner` whose lease runs
   * past `now` (a lease that ran out may be another instance's: no call is made under it), so that a crash during
   * the call leaves them marked as possibly at AWS. Returns the ids it journaled.
   */
  journal(ids: readonly string[], owner: string, now: number): Promise<string[]>;
  /**
   * After a call AWS definitely did not apply for these records, when no earlier call may have landed: clears
   * mayHaveLanded of records still leased by `owner` (attempts are kept). Ignores records whose lease was lost.
   */
  clearMayHaveLanded(ids: readonly string[], owner: string): Promise<void>;
  /** Moves records leased by `owner` to a terminal state. Ignores records whose lease was lost. */
  settle(settlements: readonly Settlement[], owner: string, now: number): Promise<void>;
  /** Hands records leased by `owner` back as pending, to be retried at nextAttemptAt. */
  release(releases: readonly Release[], owner: string): Promise<void>;

  listRecords(query?: RecordQuery): Promise<StoredRecord[]>;
  stats(): Promise<StoreStats>;

  /**
   * Optional. Puts records that failed back in line after the cause was fixed: records in state `rejected`
   * or `not-subscribed`, and `pending` records waiting for a retry, become `pending` with nextAttemptAt = now
   * and no reason; attempts are kept. Never touches open, sending, sent, duplicate, expired or dry-run records.
   * Returns the ids it moved. The caller checks AWS's submission window first.
   */
  redrive?(ids: readonly string[], now: number): Promise<string[]>;

  /**
   * Optional: one send quota for every instance on this store. Atomically, over a ring of the last `capacity`
   * grant times of `scope` kept in one row or item: grants when fewer than `capacity` grants lie in the closed
   * window [now - windowMs, now], recording `now` in place of the oldest, and answers 0; otherwise records nothing
   * and answers how many ms to wait before asking again (> 0). So no closed window of `windowMs` ever holds more
   * than `capacity` grants, whichever instances asked. `now` is the caller's clock, never the database's. A stored
   * time more than a minute (or `windowMs`, if longer) ahead of `now`, from a clock set back, is dropped. nextSendSlot() is the
   * decision every store makes. Without this method each instance keeps only its own limit.
   */
  takeSendSlot?(scope: string, now: number, capacity: number, windowMs: number): Promise<number>;

  /**
   * Optional, with takeSendSlot(): the grant of `scope` made at `grantedAt` counts from `until` on instead (a call
   * answered late reached AWS at some time up to its answer). Atomically replaces that time in the ring when it is
   * still there and `until` is later; otherwise changes nothing. extendSendSlotRing() is the decision.
   */
  extendSendSlot?(scope: string, grantedAt: number, until: number): Promise<void>;

  /**
   * Writes a customer and gives it the next version (1 when created). With a condition, writes only if the stored
   * customer still has `expectedVersion` (no expectedVersion: only if no customer has this key), atomically with
   * the check, and answers whether it wrote: false means another writer got there first and nothing changed.
   * Without a condition it inserts or replaces, always bumping the version, so conditional writers notice it.
   */
  putCustomer(customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean>;
  getCustomer(key: string): Promise<CustomerRecord | undefined>;
  findCustomerByTenant(tenantId: string): Promise<CustomerRecord | undefined>;
  /** Every customer, ordered by key. For the status page and tools: background work pages with findCustomers(). */
  listCustomers(): Promise<CustomerRecord[]>;

  /**
   * Optional (recommended): one page of the customers matching every filter given (none: all customers), ordered
   * by key in code-unit order, starting after `query.after`, at most `query.limit` of them. Each filter should be
   * answered from an index, so that a page costs about `limit` customers however many the store holds; the engine's
   * background work (flushes, lifecycle events, contract reads, the legacy account map) pages through the registry
   * with it and yields to the event loop between pages. Without it the engine falls back to listCustomers() and
   * filters in memory (customerPages()), reading every customer at each step.
   */
  findCustomers?(query: CustomerQuery): Promise<CustomerRecord[]>;
}

/** Which customers findCustomers() answers: all filters given must match. */
export interface CustomerFilter {
  readonly status?: CustomerStatus;
  readonly agreementId?: string;
  /** Customers whose agreement AWS announced a successor for (`successorAgreementId`). */
  readonly successorAgreementId?: string;
  /**
   * License customers whose licenseArn ends with this license id (`l-…`, see licenseIdOf()): AWS prints a license's
   * ARN in more than one form. Stores keep the id of each license customer as they write it.
   */
  readonly licenseId?: string;
}

/** A page of findCustomers(). */
export interface CustomerQuery extends CustomerFilter {
  /** Exclusive: only customers whose key sorts after this one (the last key of the previous page). */
  readonly after?: string;
  /** At most this many customers (>= 1). */
  readonly limit: number;
}

/** See UsageStore.putCustomer(): `{ expectedVersion: read?.version }` writes over exactly what was read. */
export interface CustomerWriteCondition {
  /** The version of the customer as read; undefined: the customer was not found. */
  readonly expectedVersion: number | undefined;
}

/** Whether a stored customer at `version` (undefined: none stored) satisfies a write condition. */
export function satisfies(condition: CustomerWriteCondition | undefined, version: number | undefined): boolean {
  return condition === undefined || condition.expectedVersion === version;
}

/** Stable id of the record of (customer, dimension, hour). */
export function recordId(customerKey: string, dimension: string, hour: number): string {
  return `${customerKey}\u001f${dimension}\u001f${hour}`;
}
