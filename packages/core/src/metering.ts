/**
 * The Metering engine: createMetering() validates the options once and builds the parts (store, aggregator,
 * persister, flusher, customer directory and registry, lifecycle, contract entitlements, status report, timers),
 * wires them to one another, and Metering's methods delegate to them. What each part does lives in its own module.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMeteringClient } from './aws/metering-client';
import { ErrorCodes, MeterkitError } from './errors';
import { MeteringEmitter, type MeteringEventName, type MeteringListener } from './events';
import { type CustomerIdentity, type CustomerRecord } from './model/customer';
import { BATCH_METER_USAGE_WINDOW, hourOf, type DueRules } from './model/hours';
import { HOUR_MS } from './model/limits';
import { Aggregator } from './meter/aggregator';
import { shutdown } from './meter/shutdown';
import { FinalTotals, type TotalInput } from './meter/final-totals';
import { DEFAULT_PERSIST_CHUNK, Persister } from './meter/persister';
import { consumptionSources } from './meter/included-usage';
import { RequestMeter } from './meter/request-meter';
import { UsageCommit } from './meter/usage-commit';
import type { MeterEntitlements } from './contracts/entitlement-view';
import { resolveOptions, type MeteringOptions, type ResolvedOptions } from './options';
import { CustomerDirectory } from './registration/customer-directory';
import { CustomerRegistry } from './registration/customer-registry';
import { BackgroundWork } from './lifecycle/background-work';
import { Lifecycle, type ApplyOutcome } from './lifecycle/lifecycle';
import type { LifecycleEvent } from './lifecycle/marketplace-event';
import { Registration } from './registration/resolve-registration';
import type { FlushReport } from './send/flush-report';
import { Flusher, type FlushRequest } from './send/flusher';
import { FlushSequence } from './send/flush-sequence';
import { Entitlement, type EntitlementStatus } from './product/entitlement';
import { resolveEntitlementOptions, type EntitlementOptions } from './product/entitlement-options';
import { productFor, productIdentity, productModeOnly } from './product/product-identity';
import { windowOf } from './product/meter-usage-window';
import { sendLimiter } from './send/shared-send-limiter';
import { startTimers } from './send/engine-timers';
import { ZeroHours } from './send/zero-hours';
import type { MeteringStatus } from './status';
import { statusReport } from './telemetry/status-report';
import { storeCall } from './store/store-call';
import { storeFromOption } from './store/store-from-option';
import { RequestStoreCalls } from './store/store-timeout';
import { keepTickShapes } from './runtime/keep-tick-shapes';
import type { UsageStore } from './store/usage-store';
import type { EntitlementSet } from './contracts/entitlement-set';
import { assertContractStore } from './contracts/contract-store';
import { ContractCustomerCalls, entitlementStoreOf } from './contracts/contract-customer-calls';
import { ContractEntitlements } from './contracts/contract-entitlements';
import { meteredProducts } from './contracts/metered-products';

/** The metering engine of one app instance. Create it once with createMetering(). */
export class Metering {
  readonly store: UsageStore;
  private readonly o: ResolvedOptions;
  private readonly events = new MeteringEmitter();
  private readonly aggregator = new Aggregator();
  private readonly directory: CustomerDirectory;
  /** The store calls requests and status() wait for, bounded by storeTimeoutMs. */
  private readonly storeCalls: RequestStoreCalls;
  private readonly persister: Persister;
  private readonly flusher: Flusher;
  private readonly registration: Registration;
  private readonly customers: CustomerRegistry;
  private readonly totals: FinalTotals;
  private readonly lifecycle: Lifecycle;
  private readonly flushes: FlushSequence;
  /** Where request meters commit. */
  private readonly sink: UsageCommit;
  private readonly entitlements: Entitlement;
  /** Contract products: entitlements read from AWS, kept in the store, served from memory for `entitlements.cacheMs`. */
  private readonly contracts: ContractEntitlements;
  private readonly contractCustomers: ContractCustomerCalls;
  private readonly timers: NodeJS.Timeout[] = [];
  private opened: Promise<UsageStore> | undefined;
  private closing: Promise<void> | undefined;
  /** Every product uses `identity: 'product'`: tenant ids all get the product meter. */
  private readonly productModeOnly: boolean;
  /** Final-usage flushes and contract re-reads started by lifecycle events; close() and idle() wait for them. */
  private readonly background: BackgroundWork;

  constructor(options: MeteringOptions) {
    this.o = resolveOptions(options);
    keepTickShapes();
    const o = this.o;
    this.store = storeFromOption(o.store);
    this.storeCalls = new RequestStoreCalls(o.storeTimeoutMs);
    assertContractStore(o.products, this.store);
    if (!this.store.durable) o.logger.warn({ store: this.store.kind }, 'this store loses usage when the process exits: use it for tests only');
    const client = createMeteringClient(o.aws);
    this.productModeOnly = productModeOnly(o.products);
    const flushRules: DueRules = { ...BATCH_METER_USAGE_WINDOW, lockMs: o.lockMs, monthEndMarginMs: 3 * HOUR_MS };
    const pause = (ms: number) => sleep(ms, undefined, { ref: false });
    this.background = new BackgroundWork(o.logger, this.events);
    this.directory = new CustomerDirectory({
      products: o.products,
      store: () => this.ready(),
      customerForTenant: o.customerForTenant,
      meteredStatuses: o.meteredStatuses,
      tenantCacheMs: o.tenantCacheMs,
      storeCalls: this.storeCalls,
      clock: o.clock,
    });
    this.persister = new Persister(this.aggregator, this.store, this.events, o.logger, this.storeCalls, DEFAULT_PERSIST_CHUNK,
      consumptionSources(o.products, (key) => this.entitlementsOf(key)));
    this.flusher = new Flusher({
      store: this.store,
      client,
      events: this.events,
      logger: o.logger,
      clock: o.clock,
      sleep: pause,
      limiter: sendLimiter(o, this.store, pause),
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      instanceId: o.instanceId,
      rules: flushRules,
      windows: [...new Set([...o.products.values()].map((product) => windowOf(product.identity)))],
      mode: o.mode,
      retry: o.retry,
      leaseMs: o.leaseMs,
      claimLimit: 500,
      maxBisectDepth: o.maxBisectDepth,
      configurationBackoffMs: 5 * 60_000,
    });
    this.totals = new FinalTotals({ directory: this.directory, store: () => this.ready(), clock: o.clock });
    this.registration = new Registration({
      client,
      store: this.store,
      products: o.products,
      events: this.events,
      logger: o.logger,
      clock: o.clock,
      sleep: pause,
      retry: o.retry,
      region: async () => (typeof client.config.region === 'function' ? client.config.region() : client.config.region),
      timeoutMs: o.registrationTimeoutMs,
      callTimeoutMs: o.aws.callTimeoutMs,
      afterResolve: (customer, deadline) => this.contracts.atRegistration(customer, deadline),
    });
    this.customers = new CustomerRegistry({ directory: this.directory, registration: this.registration, store: () => this.ready(), clock: o.clock });
    this.lifecycle = new Lifecycle({
      store: () => this.ready(),
      products: o.products,
      events: this.events,
      logger: o.logger,
      clock: o.clock,
      finalFlush: (keys) => this.background.add(this.flush({ forceCustomerKeys: keys })),
      forget: () => this.directory.forget(),
      finalUsageMs: o.finalUsageMs,
      maxFutureSkewMs: o.eventClockSkewMs,
    });
    this.entitlements = new Entitlement({ client, events: this.events, logger: o.logger, clock: o.clock });
    this.contracts = new ContractEntitlements({
      products: o.products,
      store: entitlementStoreOf(() => this.ready()),
      customerStore: () => this.ready(),
      aws: o.aws,
      options: o.entitlements,
      events: this.events,
      logger: o.logger,
      clock: o.clock,
      sleep: pause,
    });
    this.contractCustomers = new ContractCustomerCalls({ directory: this.directory, contracts: this.contracts, store: () => this.ready() });
    const zero = o.zeroHours;
    const zeroHours =
      zero === false
        ? undefined
        : new ZeroHours({
            store: this.store,
            products: meteredProducts(o.products),
            logger: o.logger,
            dimensionOf: (product) => zero.dimensions[product.productCode] ?? [...product.dimensions][0]!,
          });
    this.flushes = new FlushSequence({
      persister: this.persister,
      store: this.store,
      zeroHours,
      lifecycle: this.lifecycle,
      flusher: this.flusher,
      rules: flushRules,
      clock: o.clock,
    });
    this.sink = new UsageCommit({
      aggregator: this.aggregator,
      persister: this.persister,
      events: this.events,
      logger: o.logger,
      options: o,
      storeCalls: this.storeCalls,
      store: () => this.ready(),
      closed: () => this.closing !== undefined,
    });
    if (o.autoStart) this.start();
  }

  /** The time source meterkit works with (the `clock` option). */
  now(): number {
    return this.o.clock();
  }

  /** Whether `productCode` is one of the configured `products`. */
  hasProduct(productCode: string): boolean {
    return this.o.products.has(productCode);
  }

  /**
   * Whether `dimension` is a metered dimension of product `productCode`, or, without one, of any configured product:
   * what adapters check route-level usage declarations against when the app starts.
   */
  hasDimension(dimension: string, productCode?: string): boolean {
    if (productCode !== undefined) return this.o.products.get(productCode)?.dimensions.has(dimension) === true;
    for (const product of this.o.products.values()) if (product.dimensions.has(dimension)) return true;
    return false;
  }

  /**
   * Whether `dimension` is one of the contract dimensions (`entitlements`) of product `productCode`, or, without one,
   * of any configured contract product: what adapters check per-route entitlement requirements against at startup.
   */
  hasEntitlement(dimension: string, productCode?: string): boolean {
    if (productCode !== undefined) return this.o.products.get(productCode)?.entitlements?.has(dimension) === true;
    for (const product of this.o.products.values()) if (product.entitlements?.has(dimension) === true) return true;
    return false;
  }

  /** How far after the clock a lifecycle event may be dated (the `eventClockSkewMs` option). */
  get eventClockSkewMs(): number {
    return this.o.eventClockSkewMs;
  }

  get mode(): 'live' | 'dry-run' {
    return this.o.mode;
  }

  on<E extends MeteringEventName>(event: E, listener: MeteringListener<E>): this {
    this.events.on(event, listener);
    return this;
  }

  once<E extends MeteringEventName>(event: E, listener: MeteringListener<E>): this {
    this.events.once(event, listener);
    return this;
  }

  off<E extends MeteringEventName>(event: E, listener: MeteringListener<E>): this {
    this.events.off(event, listener);
    return this;
  }

  /** Starts the persist and flush timers (done at creation unless autoStart is false). */
  start(): void {
    if (this.timers.length > 0 || this.closing !== undefined) return;
    startTimers(this.timers, {
      persist: () => this.persist(),
      persistIntervalMs: this.o.persistIntervalMs,
      flush: () => this.flush(),
      flushIntervalMs: this.o.flushIntervalMs,
      ...(this.contracts.enabled ? { refreshEntitlements: () => this.refreshDueEntitlements() } : {}),
      refreshIntervalMs: this.o.entitlements.checkIntervalMs,
      report: (cause) => this.background.report(cause),
    });
    // A refusal is kept in entitlement() and emitted as an `error` event.
    if (this.o.entitlement !== undefined) void this.registerUsage().catch(() => undefined);
  }

  /** A meter for a customer you already know (identity or registry record). Throws for an unknown product or invalid identity. */
  meter(customer: CustomerIdentity | CustomerRecord): RequestMeter {
    this.assertOpen();
    const identity = 'identity' in customer ? customer.identity : customer;
    const bound = this.directory.bind(identity);
    return new RequestMeter(this.sink, bound, hourOf(this.o.clock()), this.contracts.knownForMeter(bound, true) as MeterEntitlements | undefined);
  }

  /**
   * A meter for the running product (AMI and container products, `identity: 'product'`): usage is sent with
   * MeterUsage, one record per dimension and hour. Without a code, the only product-mode product.
   */
  productMeter(productCode?: string): RequestMeter {
    this.assertOpen();
    const product = productFor(this.o.products, productCode);
    return new RequestMeter(this.sink, this.directory.bind(productIdentity(product.productCode)), hourOf(this.o.clock()));
  }

  /**
   * Paid container products: RegisterUsage with a fresh nonce, transient failures retried (30 minutes by default),
   * the signed answer verified with AWS's public key. Resolves once entitled; rejects with a typed MeterkitError
   * when refused. Without options, the `entitlement` option is used. The outcome is cached: see entitlement().
   */
  async registerUsage(options?: EntitlementOptions): Promise<EntitlementStatus> {
    this.assertOpen();
    const resolved = options === undefined ? this.o.entitlement : resolveEntitlementOptions(options);
    if (resolved === undefined) throw new MeterkitError(ErrorCodes.OPTIONS, 'registerUsage() needs { productCode, publicKeyVersion, publicKeyPem } or the `entitlement` option.');
    return this.entitlements.register(resolved);
  }

  /** The cached RegisterUsage outcome: pending, entitled, or refused with its error. */
  entitlement(): EntitlementStatus {
    return this.entitlements.status();
  }

  /**
   * A meter for a tenant id (mapped by customerForTenant or the registry), an identity or a registry record,
   * checked against the registry: inactive customers get ERR_METERKIT_CUSTOMER_INACTIVE. When every product uses
   * `identity: 'product'`, any tenant id (or none) gets the product meter, so handlers stay unchanged.
   */
  meterFor(who?: string | CustomerIdentity | CustomerRecord | null): Promise<RequestMeter> {
    try {
      const known = this.tryMeter(who);
      if (known !== undefined) return Promise.resolve(known);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.resolveMeter(who!);
  }

  /**
   * meterFor() without a promise, for customers this instance already resolved: the meter when meterFor() would
   * answer it from memory (a customer it found metered within `tenantCacheMs`, and nothing changed here since),
   * undefined when only meterFor() can tell. Adapters call this first and meterFor() when it answers undefined.
   */
  tryMeter(who?: string | CustomerIdentity | CustomerRecord | null): RequestMeter | undefined {
    this.assertOpen();
    if (who === undefined || who === null || (typeof who === 'string' && this.productModeOnly)) return this.productMeter();
    const now = this.o.clock();
    const bound = this.directory.known(who, now);
    if (bound === undefined) return undefined;
    const contract = this.contracts.knownForMeter(bound);
    return contract === 'stale' ? undefined : new RequestMeter(this.sink, bound, hourOf(now), contract);
  }

  private async resolveMeter(who: string | CustomerIdentity | CustomerRecord): Promise<RequestMeter> {
    const bound = await this.directory.resolve(who);
    const contract = await storeCall(() => this.contracts.forMeter(bound));
    return new RequestMeter(this.sink, bound, hourOf(this.o.clock()), contract);
  }

  /**
   * Hands in a finalized hourly total (set, not add). The same total again is accepted; a different one for
   * an hour already stored throws ERR_METERKIT_TOTAL_CONFLICT instead of becoming a DuplicateRecord at AWS.
   */
  async setTotal(total: TotalInput): Promise<void> {
    this.assertOpen();
    await this.totals.set(total);
  }

  /**
   * A contract customer's stored entitlement set by customer key: from this instance's memory while younger than
   * `entitlements.cacheMs`, else from the store. Undefined when none is stored (or the store keeps none).
   */
  entitlementsOf(customerKey: string): Promise<EntitlementSet | undefined> {
    return this.contracts.cache.entitlementsOf(customerKey);
  }

  /**
   * The entitlements stored for a contract customer (identity or registry record), read from the store now: what
   * every instance serves within `entitlements.cacheMs`. Undefined when none was read yet. No AWS call.
   * Throws ERR_METERKIT_NOT_A_CONTRACT for a customer of a subscription product.
   */
  async entitlementsFor(customer: CustomerIdentity | CustomerRecord): Promise<EntitlementSet | undefined> {
    this.assertOpen();
    return this.contractCustomers.stored(customer);
  }

  /**
   * Reads a contract customer's entitlements from AWS (GetEntitlements) now and stores them whole; answers the set
   * stored afterwards. `trigger` is recorded with the set (default 'manual'). An empty answer revokes only when the
   * customer's status carries an end signal (deprovisioning or inactive after Agreement Ended, License Deprovisioned
   * or an SNS unsubscribe); otherwise the stored set stays. Rejects with ERR_METERKIT_ENTITLEMENT_READ when AWS cannot be read
   * (after emitting `entitlementRefreshFailed`), ERR_METERKIT_NOT_A_CONTRACT for a subscription product's customer.
   */
  async refreshEntitlements(customer: CustomerIdentity | CustomerRecord, trigger = 'manual'): Promise<EntitlementSet | undefined> {
    this.assertOpen();
    return this.contractCustomers.refresh(customer, trigger);
  }

  /**
   * Runs the entitlement reads due at the clock's time: stale retries after change signals, the hourly re-read
   * (`entitlements.refreshIntervalMs`) and re-reads of sets whose ExpirationDate passed. The timers call this every
   * `entitlements.checkIntervalMs`; call it yourself after moving the `clock`. Answers how many reads ran.
   */
  async refreshDueEntitlements(): Promise<number> {
    this.assertOpen();
    await this.ready();
    return storeCall(() => this.contracts.refreshDue());
  }

  /**
   * Contract customers whose entitlements this instance re-reads after a change signal because the last read looked
   * stale, with when the next read is due (clock ms) and the signal it follows. Empty for subscription products.
   */
  pendingEntitlementRetries(): Array<{ customerKey: string; dueAt: number; trigger: string }> {
    return this.contracts.pendingRetries();
  }

  /** Writes in-memory usage to the store now. Rejects if the store refuses; the usage stays in memory. */
  async persist(): Promise<void> {
    await this.ready();
    await this.persister.persist();
  }

  /**
   * Persists, then sends every due hour. The scheduler calls this every flushIntervalMs. A store that fails rejects
   * it with ERR_METERKIT_STORE (the driver's error as its cause).
   */
  async flush(request: FlushRequest = {}): Promise<FlushReport> {
    this.assertOpen();
    return this.flushes.start(this.ready(), request);
  }

  /**
   * Applies an AWS Marketplace lifecycle event (EventBridge or legacy SNS, parsed): License Updated activates,
   * License Deprovisioned / a cancelled agreement starts the final-usage flush, renewals move the tenant link.
   * Idempotent per event id; events older than the customer's state are ignored. Emits `subscription`.
   */
  async applyLifecycleEvent(event: LifecycleEvent): Promise<ApplyOutcome> {
    this.assertOpen();
    const outcome = await storeCall(() => this.lifecycle.apply(event));
    // Every change signal re-reads the contract entitlements it names, in the background (see entitlementsChanged).
    if (outcome !== 'duplicate' && this.contracts.enabled) this.background.add(this.contracts.onLifecycleEvent(event));
    return outcome;
  }

  /**
   * Resolves once the work lifecycle events started in the background is done: final-usage flushes and contract
   * entitlement re-reads. A Lambda handler waits for it before returning, since a frozen function finishes nothing.
   */
  async idle(): Promise<void> {
    await this.background.idle();
  }

  /** Resolves an AWS Marketplace registration token (ResolveCustomer) and stores the customer. */
  async resolveRegistration(token: unknown): Promise<CustomerRecord> {
    this.assertOpen();
    return this.customers.resolve(token);
  }

  /** Links a registered customer to your app's tenant id, so meterFor(tenantId) finds it. */
  linkTenant(key: string, tenantId: string): Promise<CustomerRecord> {
    return this.customers.linkTenant(key, tenantId);
  }

  /**
   * Stores or replaces a customer in the registry (e.g. from your own records). The last call wins, but it is
   * written over the customer as read: the time and ids of the lifecycle events already applied are kept unless
   * given, so an older event redelivered later still cannot change it; registeredAt is kept unless given.
   */
  putCustomer(
    customer: Omit<CustomerRecord, 'key' | 'registeredAt' | 'updatedAt' | 'version'> & Partial<Pick<CustomerRecord, 'registeredAt'>>,
  ): Promise<CustomerRecord> {
    return this.customers.put(customer);
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    return (await this.ready()).getCustomer(key);
  }

  async listCustomers(): Promise<CustomerRecord[]> {
    return (await this.ready()).listCustomers();
  }

  /**
   * Never rejects, and answers within storeTimeoutMs: while the store is unreachable or does not answer,
   * `storeError` says so and the store's figures are empty.
   */
  status(): Promise<MeteringStatus> {
    return statusReport({
      mode: this.o.mode,
      store: this.store,
      opened: () => this.ready(),
      storeCalls: this.storeCalls,
      persister: this.persister,
      clock: this.o.clock,
      overflowQuantity: () => this.sink.overflowQuantity,
    });
  }

  /**
   * Stops the timers, waits for the flushes under way (from their persist to their last send), and persists everything
   * in memory. Rejects with ERR_METERKIT_NOT_PERSISTED (after a few tries) when the store refuses: the usage was not
   * saved.
   */
  close(): Promise<void> {
    this.closing ??= shutdown({
      timers: this.timers,
      entitlements: this.entitlements,
      background: this.background,
      flushes: this.flushes,
      flusher: this.flusher,
      opened: () => this.ready(),
      persister: this.persister,
      reopen: () => (this.closing = undefined),
    });
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new MeterkitError(ErrorCodes.CLOSED, 'This Metering instance is closed.');
  }

  private ready(): Promise<UsageStore> {
    this.opened ??= this.store.open().then(
      () => this.store,
      (cause: unknown) => {
        this.opened = undefined;
        throw new MeterkitError(ErrorCodes.STORE, `Could not open the ${this.store.kind} store.`, { cause });
      },
    );
    return this.opened;
  }
}

/** Creates the metering engine. Options are validated here, once; see MeteringOptions for every default. */
export function createMetering(options: MeteringOptions): Metering {
  return new Metering(options);
}
