import { hostname } from 'node:os';
import { resolveAwsOptions, type AwsOptions, type ResolvedAwsOptions } from './aws/metering-client';
import { ErrorCodes, MeterkitError } from './errors';
import { consoleLogger, type Logger } from './logger';
import type { CustomerIdentity, CustomerRecord, CustomerStatus } from './model/customer';
import { BATCH_METER_USAGE_WINDOW, maxLockMs } from './model/hours';
import { AwsLimits, HOUR_MS, PRODUCT_CODE_PATTERN } from './model/limits';
import type { IdentityMode, IncludedAllowance, PricingModel, Product, ProductConfig } from './model/product';
import { resolveContractEntitlements, type ContractEntitlementsOptions, type ResolvedContractEntitlements } from './contracts/entitlement-options';
import { DEFAULT_RETRY, type RetryPolicy } from './send/backoff';
import type { UsageStore } from './store/usage-store';
import { resolveEntitlementOptions, type EntitlementOptions, type ResolvedEntitlementOptions } from './product/entitlement-options';
import { METER_USAGE_WINDOW } from './product/meter-usage-window';
import { MAX_FUTURE_SKEW_MS } from './lifecycle/event-time';
import { resolveRegistrationTimeoutMs } from './registration/registration-deadline';

export interface MeteringOptions {
  /** The products this app meters, with their dimensions. At least one. */
  products: readonly ProductConfig[];
  /**
   * Where usage is kept until AWS accepted it: a UsageStore, `'sqlite:<file>'`, `'sqlite'` or `'memory'`.
   * Default `'sqlite:./meterkit.db'`. `'memory'` loses usage on exit: tests only.
   */
  store?: UsageStore | string;
  /** The AWS client, or how to build one. Default: the SDK's region and credential resolution. */
  aws?: AwsOptions;
  /**
   * Maps your app's tenant id to a registered customer. Default: the tenant linked in the customer registry
   * (by your registration hook or linkTenant()).
   */
  customerForTenant?: (tenantId: string) => Promise<CustomerIdentity | CustomerRecord | undefined> | CustomerIdentity | CustomerRecord | undefined;
  /**
   * How long a closed hour waits for late usage before it is frozen and sent. Default 10. At most 1200 (20 h:
   * BatchMeterUsage's 24-hour window keeps 3 hours of retries), or 180 (3 h) when a product uses identity
   * `'product'` (MeterUsage's 6-hour window keeps 2 hours of retries).
   */
  lockMinutes?: number;
  /** `'interval'` (default): usage reaches the store every persistIntervalMs. `'sync'`: commit() resolves after the write. */
  durability?: 'interval' | 'sync';
  /**
   * With `sync` durability, group commit: a commit that finds no store write under way waits for concurrent
   * requests' commits to join it, and all of them share one store write; each response waits only for its group's
   * write. 0 gathers until the end of the current turn of the event loop: every request read in the same turn joins,
   * and the write starts once those requests' handlers have run (requests arriving during a write share the next
   * one). A value above 0 waits that many milliseconds instead, for stores whose writes cost more than a turn.
   * Default 0, 0 to 100. On SQLite (50 connections, one unit per request) `sync` with 0 kept 0.42 to 0.53 of
   * `interval`'s throughput, with 3 to 4 ms added p99; a 2 ms window kept 0.25 to 0.34 (docs/benchmarks.md).
   */
  syncGatherMs?: number;
  /** Default 1000. */
  persistIntervalMs?: number;
  /** How often closed hours are sent. Default 60 000 (1 minute). */
  flushIntervalMs?: number;
  /** Start the persist and flush timers at creation. Default true; the timers never keep the process alive. */
  autoStart?: boolean;
  /** `'dry-run'` runs everything but the call to AWS and marks records dry-run. Default `'live'`. */
  mode?: 'live' | 'dry-run';
  /** pino-compatible. Default: warnings and errors as JSON lines on stderr. Identifiers are masked. */
  logger?: Logger;
  /** The time source (ms epoch). Default Date.now. */
  clock?: () => number;
  /**
   * BatchMeterUsage and MeterUsage calls per second, held in every sliding window: a budget r lets ceil(r) calls
   * into any closed window of ceil(r)/r seconds, so no sliding second ever holds more than ceil(r) calls and a long
   * flush averages r per second. Default 9.75: AWS allows 10 per account and region; 10 calls per 1026 ms never
   * puts an 11th call into any second, sends 100 000 (customer, dimension) pairs (4000 calls) in about 410 s, and
   * keeps 26 ms per window as headroom for network jitter between the limiter and AWS; a call answered later than
   * that after it left counts from its answer, so calls reach AWS more than a second after the call whose slot they
   * take, however slow the network (for calls answered within a window).
   * With `sharedQuota` (the default on stores that support it) this is the budget of all instances on the store
   * together; otherwise each instance holds it alone, so give each its part. Values above 10 (up to 10 000) are for
   * emulators and benchmarks.
   */
  requestsPerSecond?: number;
  /**
   * Share the `requestsPerSecond` budget with every instance on the same store: before each call the instance takes
   * a slot from a ring of the last calls' times kept in the store (UsageStore.takeSendSlot), timed by each instance's
   * `clock`, so instances' clocks must agree to well within a second (NTP). Default true when the store supports it
   * (SQLite, PostgreSQL, DynamoDB and the memory store); true with a store that does not fails with
   * ERR_METERKIT_OPTIONS. false keeps only this instance's own limit.
   */
  sharedQuota?: boolean;
  /** Retries of one batch within a flush. Default 4 attempts, 250 ms base, 20 s cap, full jitter. */
  retry?: Partial<RetryPolicy>;
  /**
   * The longest one registration takes (the registration route of every adapter, and resolveRegistration()):
   * ResolveCustomer with its retries, the customer's store write and, for a contract product, GetEntitlements with
   * its retries. Past it the registration fails with ERR_METERKIT_REGISTRATION_FAILED (the route answers 502: try the
   * same link again) and the AWS call still waiting is aborted. A retry starts only when the time left gives it its
   * whole `aws.callTimeoutMs`, so no call outlives the registration by more than that. Measured in real time, like
   * `aws.callTimeoutMs`. Default 25 000: under the 60 s idle timeout of a load balancer (ALB) with room for the
   * app's `onRegistered` hook; with the default 10 s call bound, two unanswered ResolveCustomer calls and their backoff
   * fit in it. An integer of 1 to 600 000, at least `aws.callTimeoutMs`.
   */
  registrationTimeoutMs?: number;
  /** How long a claimed record stays reserved for this instance while it sends. Default 300 000 (5 minutes). */
  leaseMs?: number;
  /**
   * The instance AWS meters this process as with MeterUsage (product mode): the EC2 instance, ECS task or EKS pod.
   * It is part of every MeterUsage ClientToken, so two instances reporting the same quantity for the same dimension
   * and hour never send the same token (AWS does not say whether it remembers a token per instance or per account;
   * per account, the second report would be taken for a resend of the first and not billed). A resend carries the
   * token of its first send only when sent under the same instanceId: keep it stable for as long as the instance's
   * store lives (e.g. a StatefulSet pod's name when its store is on a persistent volume). Default: the host name
   * (os.hostname(): a pod's name, a task's or an instance's host name). A non-empty string of at most 256 characters.
   */
  instanceId?: string;
  /** When a failing batch is split to find the bad record, the deepest split. Default 5 (reaches 1 of 25). */
  maxBisectDepth?: number;
  /** With `sync` durability: reject commit() when the store is down instead of keeping usage in memory. Default true (fail open). */
  failOpen?: boolean;
  /**
   * The longest a request waits for the store: a `sync` commit's write, meterFor()'s customer lookups (the store's,
   * or your customerForTenant), and status(). Past it the request is answered as during a store outage: the usage
   * stays queued for the next persist (a write that lands late is not counted twice), meterFor() falls back to
   * the last known customer, status() reports `storeError`. Each persist write is bounded the same way.
   * Default 5000, 1 to 600 000.
   */
  storeTimeoutMs?: number;
  /**
   * Customer statuses whose usage is accepted by meterFor(). Default registered and active: a deprovisioned
   * license's remaining usage is flushed and new usage refused.
   */
  meteredStatuses?: readonly CustomerStatus[];
  /**
   * How long meterFor() serves a customer it resolved (tenant mapping and registry status) from memory without
   * reading the store. A change applied on this instance (lifecycle event, registration, putCustomer, linkTenant) is
   * seen at once; one applied by another instance sharing the store within this many ms of the clock. 0 reads the
   * store on every call. Default 60 000.
   */
  tenantCacheMs?: number;
  /**
   * After License Deprovisioned (or Purchase Agreement Ended, whichever comes first), the customer's remaining
   * usage must be sent within this many minutes. Default 50 (AWS allows about 60).
   */
  finalUsageMinutes?: number;
  /**
   * Lifecycle events (EventBridge and SNS) dated more than this after this host's clock are refused with
   * ERR_METERKIT_LIFECYCLE_FUTURE: applied, they would make every later event of their customer look stale.
   * Default 300 000 (5 minutes); 0 to 3 600 000.
   */
  eventClockSkewMs?: number;
  /**
   * Send a 0 record for every closed, locked hour of an active customer without usage, as AWS recommends.
   * `true` uses each product's first dimension; an object names the dimension per product code. Default off.
   */
  zeroHours?: boolean | { readonly dimensions: Readonly<Record<string, string>> };
  /**
   * Paid container products: call RegisterUsage once when the timers start (autoStart or start()), retrying
   * transient failures for up to 30 minutes, and verify AWS's signature. See metering.entitlement() and
   * entitlementGate(). Default none.
   */
  entitlement?: EntitlementOptions;
  /**
   * Contract products (`pricing: 'contract' | 'contract-with-consumption'`): how entitlements are read from AWS
   * (GetEntitlements) and kept. Every field has a default; see ContractEntitlementsOptions and docs/contracts.md.
   */
  entitlements?: ContractEntitlementsOptions;
}

export interface ResolvedOptions {
  readonly products: ReadonlyMap<string, Product>;
  readonly store: UsageStore | string;
  readonly aws: ResolvedAwsOptions;
  readonly customerForTenant: MeteringOptions['customerForTenant'];
  readonly lockMs: number;
  readonly durability: 'interval' | 'sync';
  readonly syncGatherMs: number;
  readonly persistIntervalMs: number;
  readonly flushIntervalMs: number;
  readonly autoStart: boolean;
  readonly mode: 'live' | 'dry-run';
  readonly logger: Logger;
  readonly clock: () => number;
  readonly requestsPerSecond: number;
  /** undefined: use it when the store supports it. */
  readonly sharedQuota: boolean | undefined;
  readonly retry: RetryPolicy;
  readonly registrationTimeoutMs: number;
  readonly leaseMs: number;
  readonly instanceId: string;
  readonly maxBisectDepth: number;
  readonly failOpen: boolean;
  readonly storeTimeoutMs: number;
  readonly meteredStatuses: ReadonlySet<CustomerStatus>;
  readonly tenantCacheMs: number;
  readonly finalUsageMs: number;
  readonly eventClockSkewMs: number;
  readonly zeroHours: false | { readonly dimensions: Readonly<Record<string, string>> };
  readonly entitlement: ResolvedEntitlementOptions | undefined;
  readonly entitlements: ResolvedContractEntitlements;
}

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, message);
}

function number(name: string, value: number | undefined, fallback: number, min: number, max: number, integer = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fail(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got ${String(value)}.`);
  }
  return value;
}

/** 10 calls per 1026 ms: AWS's 10 per second, never exceeded in a sliding second, with 26 ms of headroom. */
export const DEFAULT_REQUESTS_PER_SECOND = 9.75;

function optionalBoolean(name: string, value: boolean | undefined): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') fail(`${name} must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) fail(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}.`);
  return value;
}

function resolveProducts(configs: readonly ProductConfig[] | undefined): Map<string, Product> {
  if (!Array.isArray(configs) || configs.length === 0) fail('products must list at least one product: { productCode, dimensions }.');
  const products = new Map<string, Product>();
  for (const config of configs) {
    const code = config?.productCode;
    if (typeof code !== 'string' || code.length === 0 || code.length > AwsLimits.productCodeMaxLength || !PRODUCT_CODE_PATTERN.test(code)) {
      fail(`productCode ${JSON.stringify(code)} is not a product code AWS accepts.`);
    }
    if (products.has(code)) fail(`Product ${code} is listed twice.`);
    const identity = oneOf(`products[${code}].identity`, config.identity, ['license', 'legacy', 'product'], 'license');
    const pricing = oneOf(`products[${code}].pricing`, config.pricing, ['subscription', 'contract', 'contract-with-consumption'], 'subscription');
    if (!Array.isArray(config.dimensions)) fail(`Product ${code} needs \`dimensions\`: the metered dimension API names.`);
    if (pricing === 'contract' && config.dimensions.length > 0) {
      fail(`Product ${code} is a contract: AWS accepts no metering records for it, so \`dimensions\` must be empty. List its contract dimensions in \`entitlements\`.`);
    }
    if (pricing !== 'contract' && config.dimensions.length === 0) fail(`Product ${code} needs at least one dimension.`);
    for (const dimension of config.dimensions) {
      if (typeof dimension !== 'string' || dimension.length < 1 || dimension.length > AwsLimits.dimensionMaxLength) {
        fail(`Product ${code}: dimension ${JSON.stringify(dimension)} must be 1-${AwsLimits.dimensionMaxLength} characters.`);
      }
    }
    const dimensions = new Set<string>(config.dimensions);
    products.set(code, { productCode: code, identity, dimensions, pricing, ...resolveContract(code, config, pricing, identity, dimensions) });
  }
  return products;
}

/** The contract part of a product's configuration: its entitlements and, with consumption, what they include. */
function resolveContract(
  code: string,
  config: ProductConfig,
  pricing: PricingModel,
  identity: IdentityMode,
  dimensions: ReadonlySet<string>,
): Pick<Product, 'entitlements' | 'included'> {
  if (pricing === 'subscription') {
    if (config.entitlements !== undefined || config.included !== undefined) {
      fail(`Product ${code}: \`entitlements\` and \`included\` are for contract products; set \`pricing\` to 'contract' or 'contract-with-consumption'.`);
    }
    return {};
  }
  if (identity === 'product') fail(`Product ${code}: contracts are SaaS listings; identity 'product' (AMI and container products) cannot be a contract.`);
  const listed = config.entitlements ?? [];
  if (!Array.isArray(listed)) fail(`Product ${code}: \`entitlements\` must list contract dimension API names.`);
  for (const name of listed) {
    if (typeof name !== 'string' || name.length < 1 || name.length > AwsLimits.dimensionMaxLength) {
      fail(`Product ${code}: entitlement ${JSON.stringify(name)} must be 1-${AwsLimits.dimensionMaxLength} characters.`);
    }
  }
  const entitlements = new Set(listed);
  const included = new Map<string, IncludedAllowance>();
  if (config.included !== undefined) {
    if (pricing !== 'contract-with-consumption') fail(`Product ${code}: \`included\` is for pricing 'contract-with-consumption'.`);
    if (config.included === null || typeof config.included !== 'object' || Array.isArray(config.included)) {
      fail(`Product ${code}: \`included\` must map metered dimensions to { entitlement?, period? }.`);
    }
    for (const [dimension, setting] of Object.entries(config.included)) {
      if (!dimensions.has(dimension)) fail(`Product ${code}: included ${JSON.stringify(dimension)} is not one of its metered \`dimensions\`.`);
      if (setting === null || typeof setting !== 'object') fail(`Product ${code}: included.${dimension} must be { entitlement?, period? }.`);
      const entitlement = setting.entitlement ?? dimension;
      if (typeof entitlement !== 'string' || entitlement.length < 1 || entitlement.length > AwsLimits.dimensionMaxLength) {
        fail(`Product ${code}: included.${dimension}.entitlement must be 1-${AwsLimits.dimensionMaxLength} characters.`);
      }
      const period = oneOf(`products[${code}].included.${dimension}.period`, setting.period, ['hour', 'month'], 'hour');
      entitlements.add(entitlement);
      included.set(dimension, { dimension, entitlement, period });
    }
  }
  return { entitlements, included };
}

/** The lock must leave the retry headroom of the tightest submission window among the identity modes in use. */
function resolveLockMs(value: number | undefined, products: ReadonlyMap<string, Product>): number {
  const lockMinutes = number('lockMinutes', value, 10, 0, maxLockMs(BATCH_METER_USAGE_WINDOW) / 60_000, false);
  const productMode = [...products.values()].find((product) => product.identity === 'product');
  const limit = maxLockMs(METER_USAGE_WINDOW) / 60_000;
  if (productMode !== undefined && lockMinutes > limit) {
    fail(
      `lockMinutes must be at most ${limit} when a product uses identity 'product' (${productMode.productCode}), got ${lockMinutes}: ` +
        `MeterUsage accepts an hour's record for ${METER_USAGE_WINDOW.windowMs / HOUR_MS} hours from the hour's start, and the hour itself, ` +
        `the lock and ${METER_USAGE_WINDOW.retryHeadroomMs / HOUR_MS} hours of retries must fit in them.`,
    );
  }
  return lockMinutes * 60_000;
}

function resolveZeroHours(option: MeteringOptions['zeroHours'], products: ReadonlyMap<string, Product>): ResolvedOptions['zeroHours'] {
  if (option === undefined || option === false) return false;
  if (option === true) return { dimensions: {} };
  const dimensions = option?.dimensions;
  if (dimensions === null || typeof dimensions !== 'object') fail('zeroHours must be true or { dimensions: { [productCode]: dimension } }.');
  for (const [code, dimension] of Object.entries(dimensions)) {
    if (!products.get(code)?.dimensions.has(dimension)) fail(`zeroHours: ${JSON.stringify(dimension)} is not a dimension of product ${code}.`);
  }
  return { dimensions };
}

function resolveInstanceId(value: string | undefined): string {
  if (value === undefined) return hostname();
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 256) {
    fail(`instanceId must be a non-empty string of at most 256 characters, got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Validates options once and fills in the documented defaults. Throws ERR_METERKIT_OPTIONS. */
export function resolveOptions(options: MeteringOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('createMetering() needs an options object with at least `products`.');
  const store = options.store ?? 'sqlite:./meterkit.db';
  if (typeof store === 'string' && !/^(memory|sqlite(:.+)?)$/.test(store)) {
    fail(`store must be a UsageStore, 'memory', 'sqlite' or 'sqlite:<file>', got ${JSON.stringify(store)}.`);
  }
  if (options.customerForTenant !== undefined && typeof options.customerForTenant !== 'function') fail('customerForTenant must be a function.');
  if (options.clock !== undefined && typeof options.clock !== 'function') fail('clock must be a function returning ms since the epoch.');
  const statuses = options.meteredStatuses ?? ['registered', 'active'];
  for (const status of statuses) oneOf('meteredStatuses[]', status, ['registered', 'active', 'deprovisioning', 'inactive'], 'active');
  const retry = options.retry ?? {};
  const products = resolveProducts(options.products);
  const aws = resolveAwsOptions(options.aws);
  return {
    products,
    store,
    aws,
    customerForTenant: options.customerForTenant,
    lockMs: resolveLockMs(options.lockMinutes, products),
    durability: oneOf('durability', options.durability, ['interval', 'sync'], 'interval'),
    syncGatherMs: number('syncGatherMs', options.syncGatherMs, 0, 0, 100, false),
    persistIntervalMs: number('persistIntervalMs', options.persistIntervalMs, 1000, 10, 3_600_000),
    flushIntervalMs: number('flushIntervalMs', options.flushIntervalMs, 60_000, 100, 3_600_000),
    autoStart: options.autoStart ?? true,
    mode: oneOf('mode', options.mode, ['live', 'dry-run'], 'live'),
    logger: options.logger ?? consoleLogger,
    clock: options.clock ?? Date.now,
    requestsPerSecond: number('requestsPerSecond', options.requestsPerSecond, DEFAULT_REQUESTS_PER_SECOND, 0.01, 10_000, false),
    sharedQuota: optionalBoolean('sharedQuota', options.sharedQuota),
    retry: {
      attempts: number('retry.attempts', retry.attempts, DEFAULT_RETRY.attempts, 1, 20),
      baseDelayMs: number('retry.baseDelayMs', retry.baseDelayMs, DEFAULT_RETRY.baseDelayMs, 0, 60_000),
      maxDelayMs: number('retry.maxDelayMs', retry.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0, 600_000),
    },
    registrationTimeoutMs: resolveRegistrationTimeoutMs(options.registrationTimeoutMs, aws.callTimeoutMs),
    leaseMs: number('leaseMs', options.leaseMs, 300_000, 1000, 3_600_000),
    instanceId: resolveInstanceId(options.instanceId),
    maxBisectDepth: number('maxBisectDepth', options.maxBisectDepth, 5, 0, 12),
    failOpen: options.failOpen ?? true,
    storeTimeoutMs: number('storeTimeoutMs', options.storeTimeoutMs, 5000, 1, 600_000),
    meteredStatuses: new Set(statuses),
    tenantCacheMs: number('tenantCacheMs', options.tenantCacheMs, 60_000, 0, 86_400_000),
    finalUsageMs: number('finalUsageMinutes', options.finalUsageMinutes, 50, 1, 60, false) * 60_000,
    eventClockSkewMs: number('eventClockSkewMs', options.eventClockSkewMs, MAX_FUTURE_SKEW_MS, 0, 3_600_000),
    zeroHours: resolveZeroHours(options.zeroHours, products),
    entitlement: options.entitlement === undefined ? undefined : resolveEntitlementOptions(options.entitlement),
    entitlements: resolveContractEntitlements(options.entitlements),
  };
}
