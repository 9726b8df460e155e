import type { AwsOptions } from '../aws/metering-client';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import type { LifecycleEvent } from '../lifecycle/marketplace-event';
import type { CustomerRecord } from '../model/customer';
import type { CallDeadline } from '../registration/registration-deadline';
import { isContract, type Product } from '../model/product';
import type { BoundCustomer } from '../meter/bound-customer';
import { RateLimiter } from '../send/rate-limiter';
import { customerPages } from '../store/customer-pages';
import type { EntitlementStore } from '../store/entitlement-store';
import type { UsageStore } from '../store/usage-store';
import { EntitlementCache } from './entitlement-cache';
import { createEntitlementClient } from './entitlement-client';
import type { ResolvedContractEntitlements } from './entitlement-options';
import { entitlementSignals } from './entitlement-signals';
import type { MeterEntitlements } from './entitlement-view';
import { eachAtMost } from './each-at-most';
import { readEntitlements } from './read-entitlements';
import { EntitlementRefresher, type ContractCustomer, type RefreshResult } from './refresh-entitlements';

export interface ContractEntitlementsDeps {
  readonly products: ReadonlyMap<string, Product>;
  /** The store as an EntitlementStore; undefined when it is not one (no contract product is configured then). */
  readonly store: () => Promise<EntitlementStore | undefined>;
  /** The customer registry, read a page at a time. */
  readonly customerStore: () => Promise<UsageStore>;
  readonly aws: AwsOptions;
  readonly options: ResolvedContractEntitlements;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** However high requestsPerSecond is set, a due pass keeps at most this many reads (and their store writes) in flight. */
const MAX_DUE_READS_AT_ONCE = 50;

/**
 * A customer in one of these statuses got an end signal (Agreement Ended, License Deprovisioned, SNS unsubscribe),
 * kept in the store: an empty read revokes, on any instance, after a restart too.
 */
const ENDED_STATUSES: ReadonlySet<string> = new Set(['deprovisioning', 'inactive']);

/**
 * The engine's contract side: reads entitlements at registration, on change signals, on the timer and when an
 * ExpirationDate passes; keeps them in the store and this instance's cache; hands request meters their set.
 */
export class ContractEntitlements {
  readonly enabled: boolean;
  readonly cache: EntitlementCache;
  private readonly refresher: EntitlementRefresher;
  private readonly contractProducts: ReadonlySet<string>;
  /** Reads of a due pass in flight at once: as many as the rate limit lets start in one second. */
  private readonly dueReadsAtOnce: number;
  private duePass: Promise<number> | undefined;

  constructor(private readonly d: ContractEntitlementsDeps) {
    this.contractProducts = new Set([...d.products.values()].filter(isContract).map((p) => p.productCode));
    this.enabled = this.contractProducts.size > 0;
    this.cache = new EntitlementCache({ store: d.store, clock: d.clock, cacheMs: d.options.cacheMs });
    let client: ReturnType<typeof createEntitlementClient> | undefined;
    const limiter = new RateLimiter(d.options.requestsPerSecond, Date.now, d.sleep);
    this.dueReadsAtOnce = Math.min(MAX_DUE_READS_AT_ONCE, Math.max(1, Math.ceil(d.options.requestsPerSecond)));
    this.refresher = new EntitlementRefresher({
      store: () => this.store(),
      read: (customer, request) => {
        client ??= createEntitlementClient(d.aws, d.options.client);
        return readEntitlements(
          { client, limiter, retry: d.options.retry, sleep: d.sleep, pageSize: d.options.pageSize, ...(request.deadline === undefined ? {} : { deadline: request.deadline }) },
          customer.productCode,
          customer.identity,
        );
      },
      cache: this.cache,
      events: d.events,
      logger: d.logger,
      clock: d.clock,
      staleRetryDelaysMs: d.options.staleRetryDelaysMs,
    });
  }

  isContractCustomer(bound: Pick<BoundCustomer, 'product'>): boolean {
    return this.enabled && this.contractProducts.has(bound.product.productCode);
  }

  /** What a new request meter of the customer holds: read from the store unless this instance read it within cacheMs. */
  async forMeter(bound: BoundCustomer): Promise<MeterEntitlements | undefined> {
    if (!this.isContractCustomer(bound)) return undefined;
    const [set, counters] = await Promise.all([
      this.cache.entitlementsOf(bound.key),
      bound.product.included !== undefined && bound.product.included.size > 0 ? this.cache.countersOf(bound.key) : [],
    ]);
    return { set, counters };
  }

  /**
   * What forMeter() would answer, from memory: `stale` when only a store read can tell (never read here, or older
   * than cacheMs); with `anyAge`, whatever is in memory (nothing when never read).
   */
  knownForMeter(bound: BoundCustomer, anyAge = false): MeterEntitlements | undefined | 'stale' {
    if (!this.isContractCustomer(bound)) return undefined;
    const set = this.cache.peek(bound.key);
    const needsCounters = bound.product.included !== undefined && bound.product.included.size > 0;
    const counters = needsCounters ? this.cache.peekCounters(bound.key) : { counters: [], fresh: true };
    if (!anyAge && (set?.fresh !== true || counters?.fresh !== true)) return 'stale';
    return { set: set?.set, counters: counters?.counters ?? [] };
  }

  /**
   * Registration (after ResolveCustomer, before the hook answers): reads the new customer's entitlements within the
   * registration's deadline.
   */
  async atRegistration(customer: CustomerRecord, deadline?: CallDeadline): Promise<void> {
    const contract = this.contractCustomer(customer);
    if (contract === undefined) return;
    await this.refresher.refresh(contract, {
      trigger: 'registration',
      changeSignal: false,
      endSignal: false,
      retryWhenEmpty: true,
      ...(deadline === undefined ? {} : { deadline }),
    });
  }

  /** Re-reads the entitlements a lifecycle event names (each a change signal); failures are emitted, not thrown. */
  async onLifecycleEvent(event: LifecycleEvent): Promise<void> {
    if (!this.enabled) return;
    const signals = await entitlementSignals(event, this.d.products, async (agreementId) => {
      const customers: CustomerRecord[] = [];
      for await (const page of customerPages(await this.d.customerStore(), { agreementId })) customers.push(...page);
      return customers;
    });
    await Promise.all(signals.map((s) => this.refresher.refresh(s.customer, s.request).catch(() => undefined)));
  }

  /**
   * Reads the customer's entitlements from AWS now (refreshEntitlements(), the timers). `ended`: the customer's stored
   * status carries an end signal (deprovisioning or inactive), so an empty read revokes.
   */
  refresh(customer: ContractCustomer, trigger: string, ended: boolean): Promise<RefreshResult> {
    return this.refresher.refresh(customer, { trigger, changeSignal: false, endSignal: ended });
  }

  /** Whether the customer's stored status carries an end signal. */
  isEnded(record: Pick<CustomerRecord, 'status'> | undefined): boolean {
    return record !== undefined && ENDED_STATUSES.has(record.status);
  }

  /**
   * Runs what is due at the clock's time: stale retries after change signals, the timer's re-reads (a set older than
   * refreshIntervalMs, or a customer never read) and re-reads of sets whose ExpirationDate passed since they were
   * read. Answers how many reads ran. Failures are emitted as `entitlementRefreshFailed`. Walks the registry a page
   * at a time and reads each page's due customers, a few at once, before the next page. One pass at a time: a call
   * while a pass runs (the timer's next tick, with more due customers than requestsPerSecond reads in one interval)
   * joins it instead of queueing the same customers again.
   */
  refreshDue(): Promise<number> {
    if (!this.enabled) return Promise.resolve(0);
    this.duePass ??= this.runDue().finally(() => {
      this.duePass = undefined;
    });
    return this.duePass;
  }

  private async runDue(): Promise<number> {
    let ran = await this.refresher.runDueRetries();
    const store = await this.store();
    const now = this.d.clock();
    const retrying = new Set(this.refresher.pendingRetries().map((r) => r.customerKey));
    for await (const page of customerPages(await this.d.customerStore())) {
      const contracts = page.flatMap((record) => {
        const contract = this.contractCustomer(record);
        return contract === undefined || retrying.has(record.key) ? [] : [{ record, contract }];
      });
      const sets = await Promise.all(contracts.map(({ record }) => store.getEntitlements(record.key)));
      const due: Array<{ customer: ContractCustomer; trigger: string; ended: boolean }> = [];
      contracts.forEach(({ record, contract }, i) => {
        const ended = ENDED_STATUSES.has(record.status);
        const set = sets[i];
        if (set?.revoked === true) return;
        if (set !== undefined && set.entitlements.some((e) => e.expiresAt !== undefined && e.expiresAt > set.fetchedAt && e.expiresAt <= now)) {
          due.push({ customer: contract, trigger: 'expiry', ended });
        } else if (set === undefined || set.fetchedAt + this.d.options.refreshIntervalMs <= now) {
          due.push({ customer: contract, trigger: 'timer', ended });
        }
      });
      await eachAtMost(this.dueReadsAtOnce, due, (item) => this.refresh(item.customer, item.trigger, item.ended).catch(() => undefined));
      ran += due.length;
    }
    return ran;
  }

  /** Stale retries pending on this instance (for tests and the status page). */
  pendingRetries(): Array<{ customerKey: string; dueAt: number; trigger: string }> {
    return this.refresher.pendingRetries();
  }

  /** The customer as the refresher reads it; undefined for a customer of a subscription product. */
  contractCustomer(customer: Pick<CustomerRecord, 'key' | 'identity'>): ContractCustomer | undefined {
    const productCode = customer.identity.productCode;
    if (!this.contractProducts.has(productCode) || customer.identity.kind === 'product') return undefined;
    return { key: customer.key, identity: customer.identity, productCode };
  }

  private async store(): Promise<EntitlementStore> {
    const store = await this.d.store();
    if (store === undefined) throw new MeterkitError(ErrorCodes.OPTIONS, 'The store does not keep entitlements (EntitlementStore).');
    return store;
  }
}
