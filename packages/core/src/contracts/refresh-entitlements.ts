import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { mask } from '../logger';
import type { CustomerIdentity } from '../model/customer';
import type { CallDeadline } from '../registration/registration-deadline';
import type { EntitlementStore } from '../store/entitlement-store';
import type { EntitlementCache } from './entitlement-cache';
import type { DimensionEntitlement, EntitlementSet } from './entitlement-set';

/** The customer a refresh reads for. */
export interface ContractCustomer {
  readonly key: string;
  readonly identity: CustomerIdentity;
  readonly productCode: string;
}

/** Why a refresh runs, and what it may conclude. */
export interface RefreshRequest {
  /** Stored as the set's `trigger`: `registration`, `event:<event id>`, `timer`, `expiry`, `manual`. */
  readonly trigger: string;
  /** A change signal (registration, an agreement or license event, an SNS notification): an unchanged read is retried. */
  readonly changeSignal: boolean;
  /** An end signal (Agreement Ended, License Deprovisioned): an empty read revokes. */
  readonly endSignal: boolean;
  /** An SNS entitlement-updated: an end signal when the stored set's ExpirationDate has passed. */
  readonly endIfExpired?: boolean;
  /** Without a change signal (registration): an empty read is still retried on the stale schedule, as lag. */
  readonly retryWhenEmpty?: boolean;
  /** The registration's deadline the read must answer within (registration reads only). */
  readonly deadline?: CallDeadline;
}

/**
 * `changed`: a different set was stored; `unchanged`: the same values were stored again (newer fetchedAt);
 * `lag`: an empty read without an end signal, nothing stored; `older`: another read, fetched later, was stored first.
 */
export type RefreshOutcome = 'changed' | 'unchanged' | 'lag' | 'older';

export interface RefreshResult {
  readonly outcome: RefreshOutcome;
  /** The customer's stored set after the refresh. */
  readonly set: EntitlementSet | undefined;
}

export interface RefresherDeps {
  readonly store: () => Promise<EntitlementStore>;
  /** GetEntitlements for the customer, every page (read-entitlements); `request` is what the read is for. */
  readonly read: (customer: ContractCustomer, request: RefreshRequest) => Promise<DimensionEntitlement[]>;
  readonly cache: EntitlementCache;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
  /** After a change signal, when (ms after it) a read that looks stale is retried. */
  readonly staleRetryDelaysMs: readonly number[];
}

/** A change signal whose read still looked stale: read again at `signalAt + delays[attempt]` (-1: the signal's own read). */
interface StaleRetry {
  readonly customer: ContractCustomer;
  readonly request: RefreshRequest;
  readonly signalAt: number;
  readonly attempt: number;
}

/**
 * Reads a customer's entitlements and stores them whole (the store keeps the newest fetchedAt, so every instance
 * agrees and a reordered older read never wins). An empty read revokes only with an end signal; otherwise it is lag
 * and the stored set stays. After a change signal, a read equal to the stored set (or empty) is retried on the
 * stale schedule; after the last retry the stored set stays and `entitlementRefreshFailed` is emitted.
 */
export class EntitlementRefresher {
  private readonly retries = new Map<string, StaleRetry>();
  /** One refresh at a time per customer on this instance. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly d: RefresherDeps) {}

  /** Customers with a stale retry pending, and when it is due. */
  pendingRetries(): Array<{ customerKey: string; dueAt: number; trigger: string }> {
    return [...this.retries.values()].map((r) => ({ customerKey: r.customer.key, dueAt: this.dueAt(r)!, trigger: r.request.trigger }));
  }

  /**
   * Reads and stores the customer's entitlements now. A change signal (re)starts the customer's stale schedule.
   * Rejects with ERR_METERKIT_ENTITLEMENT_READ when AWS cannot be read (the stored set stays), after emitting
   * `entitlementRefreshFailed`.
   */
  refresh(customer: ContractCustomer, request: RefreshRequest): Promise<RefreshResult> {
    const signalAt = this.d.clock();
    let effective = request;
    if (request.changeSignal || request.retryWhenEmpty === true) {
      const pending = this.retries.get(customer.key);
      // A new signal restarts the schedule; an end signal already seen stays with it.
      if (pending !== undefined && pending.request.endSignal && !request.endSignal) effective = { ...request, endSignal: true };
      this.retries.delete(customer.key);
    }
    return this.serialized(customer.key, () => this.attempt({ customer, request: effective, signalAt, attempt: -1 }));
  }

  /** Runs the stale retries due at the clock's time. Answers how many ran. */
  async runDueRetries(): Promise<number> {
    const now = this.d.clock();
    const due = [...this.retries.values()].filter((r) => this.dueAt(r)! <= now);
    for (const retry of due) this.retries.delete(retry.customer.key);
    await Promise.all(due.map((retry) => this.serialized(retry.customer.key, () => this.attempt(retry)).catch(() => undefined)));
    return due.length;
  }

  private dueAt(retry: StaleRetry): number | undefined {
    const delay = this.d.staleRetryDelaysMs[retry.attempt];
    return delay === undefined ? undefined : retry.signalAt + delay;
  }

  private serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.running.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tracked = next.catch(() => undefined);
    this.running.set(key, tracked);
    void tracked.then(() => {
      if (this.running.get(key) === tracked) this.running.delete(key);
    });
    return next;
  }

  private async attempt(retry: StaleRetry): Promise<RefreshResult> {
    const { customer, request } = retry;
    const store = await this.d.store();
    const previous = await store.getEntitlements(customer.key);
    const now = this.d.clock();
    const endSignal = request.endSignal || (request.endIfExpired === true && hasExpired(previous, now));
    let entitlements: DimensionEntitlement[];
    try {
      entitlements = await this.d.read(customer, { ...request, endSignal });
    } catch (cause) {
      const error = cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.ENTITLEMENT_READ, 'GetEntitlements failed; the stored entitlements stay.', { cause });
      this.failed(customer, request.trigger, error);
      if (request.changeSignal || request.retryWhenEmpty === true) this.scheduleNext(retry, false);
      throw error;
    }
    // `previous` was stored before this read was asked for: this answer is newer even within one clock tick.
    const fetchedAt = Math.max(this.d.clock(), (previous?.fetchedAt ?? 0) + 1);
    // Revoked already: an empty read is no news, whatever the signal.
    if (entitlements.length === 0 && previous?.revoked === true) return { outcome: 'unchanged', set: previous };
    if (entitlements.length === 0 && !endSignal) {
      this.d.logger.info({ customer: mask(customer.key), trigger: request.trigger }, 'GetEntitlements answered nothing without an end signal: kept the stored entitlements');
      if (request.changeSignal || request.retryWhenEmpty === true) this.scheduleNext(retry, true);
      return { outcome: 'lag', set: previous };
    }
    const set: EntitlementSet = {
      customerKey: customer.key,
      productCode: customer.productCode,
      entitlements,
      fetchedAt,
      trigger: request.trigger,
      ...(entitlements.length === 0 ? { revoked: true } : {}),
    };
    if (!(await store.putEntitlements(set))) {
      // Another read, fetched later, is stored: it stands.
      return { outcome: 'older', set: await this.d.cache.load(customer.key) };
    }
    this.d.cache.remember(set);
    // An end signal keeps being followed until a read shows the end: AWS may still list the contract.
    const followEnd = request.changeSignal && endSignal && set.revoked !== true;
    if (sameEntitlements(previous, set)) {
      if (request.changeSignal && set.revoked !== true) this.scheduleNext(retry, true);
      return { outcome: 'unchanged', set };
    }
    if (followEnd) this.scheduleNext({ ...retry, request: { ...request, endSignal } }, false);
    this.d.logger.info({ customer: mask(customer.key), trigger: request.trigger, revoked: set.revoked === true }, 'entitlements changed');
    this.d.events.emit('entitlementsChanged', {
      customerKey: customer.key,
      productCode: customer.productCode,
      entitlements: set,
      previous,
      trigger: request.trigger,
    });
    return { outcome: 'changed', set };
  }

  /** Schedules the next stale retry; after the last one, reports that the change never showed. */
  private scheduleNext(retry: StaleRetry, stale: boolean): void {
    // A registration's deadline bounds its own read only: the retries run later, on their own.
    const { deadline: _registrationDeadline, ...request } = retry.request;
    const next: StaleRetry = { ...retry, request, attempt: retry.attempt + 1 };
    if (this.retries.has(retry.customer.key)) return;
    if (this.dueAt(next) !== undefined) {
      this.retries.set(retry.customer.key, next);
      return;
    }
    if (!stale) return;
    const waited = this.d.staleRetryDelaysMs[this.d.staleRetryDelaysMs.length - 1] ?? 0;
    this.failed(
      retry.customer,
      retry.request.trigger,
      new MeterkitError(
        ErrorCodes.ENTITLEMENT_READ,
        `GetEntitlements still answered ${retry.request.changeSignal ? 'the stored entitlements' : 'nothing'} ${Math.round(waited / 60_000)} minutes after ${retry.request.trigger}; the stored entitlements stay as they are.`,
        { details: { productCode: retry.customer.productCode } },
      ),
    );
  }

  private failed(customer: ContractCustomer, trigger: string, error: MeterkitError): void {
    this.d.logger.warn({ customer: mask(customer.key), trigger, code: error.code, awsException: error.awsException }, error.message);
    this.d.events.emit('entitlementRefreshFailed', { customerKey: customer.key, productCode: customer.productCode, error, trigger });
  }
}

/** Whether the stored set's ExpirationDate has passed (its latest one, when dimensions differ). */
export function hasExpired(set: EntitlementSet | undefined, now: number): boolean {
  if (set === undefined || set.entitlements.length === 0) return false;
  let latest = Number.NEGATIVE_INFINITY;
  for (const e of set.entitlements) {
    if (e.expiresAt === undefined) return false;
    latest = Math.max(latest, e.expiresAt);
  }
  return latest <= now;
}

/** Same values, types, expiries and revocation: what makes a read "unchanged". */
export function sameEntitlements(a: EntitlementSet | undefined, b: EntitlementSet | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if ((a.revoked === true) !== (b.revoked === true) || a.entitlements.length !== b.entitlements.length) return false;
  const byDimension = new Map(a.entitlements.map((e) => [e.dimension, e]));
  return b.entitlements.every((e) => {
    const other = byDimension.get(e.dimension);
    return other !== undefined && other.value === e.value && other.valueType === e.valueType && other.expiresAt === e.expiresAt;
  });
}
