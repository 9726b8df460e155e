import type { MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { ErrorCodes, MeterkitError } from '../errors';
import { DEFAULT_RETRY, type RetryPolicy } from '../send/backoff';

/** How contract entitlements are read from AWS and kept (the `entitlements` option; docs/contracts.md). */
export interface ContractEntitlementsOptions {
  /**
   * GetEntitlements calls per second from this instance, held in every sliding second. Default 10: AWS allows 20
   * per account, half is left for other instances and tools. Values above 20 (up to 10 000) are for emulators.
   */
  readonly requestsPerSecond?: number;
  /** How often each contract customer's entitlements are read again without a change signal. Default 3 600 000 (1 hour). */
  readonly refreshIntervalMs?: number;
  /**
   * After a change signal, a read that still shows the stored set (or nothing, without an end signal) is retried
   * this long after the signal, in turn; after the last, the stored set stays and `entitlementRefreshFailed` is
   * emitted. Default [60 000, 120 000, 300 000, 600 000, 1 800 000] (1, 2, 5, 10 and 30 minutes). Ascending.
   */
  readonly staleRetryDelaysMs?: readonly number[];
  /**
   * How long this instance serves a customer's entitlements from memory before reading the store again: another
   * instance's refresh is seen within this many ms. A refresh on this instance is seen at once. Default 5 000.
   */
  readonly cacheMs?: number;
  /** MaxResults of each GetEntitlements page, 1 to 25. Default 25. */
  readonly pageSize?: number;
  /**
   * Your own Entitlement Service client. Default: one built from the `aws` option's endpoint and credentials with
   * the region pinned to us-east-1, the only region AWS serves GetEntitlements in.
   */
  readonly client?: MarketplaceEntitlementServiceClient;
  /** Retries of a throttled or failed GetEntitlements page. Default 8 attempts, 250 ms base, 20 s cap, full jitter. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How often the timers look for due reads (stale retries, the hourly re-read, passed expiries), in real ms: each look
   * lists the store's customers and entitlement sets. Default 30 000.
   */
  readonly checkIntervalMs?: number;
}

export interface ResolvedContractEntitlements {
  readonly requestsPerSecond: number;
  readonly refreshIntervalMs: number;
  readonly staleRetryDelaysMs: readonly number[];
  readonly cacheMs: number;
  readonly pageSize: number;
  readonly client: MarketplaceEntitlementServiceClient | undefined;
  readonly retry: RetryPolicy;
  readonly checkIntervalMs: number;
}

export const DEFAULT_STALE_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000, 300_000, 600_000, 1_800_000];

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `entitlements: ${message}`);
}

function number(name: string, value: number | undefined, fallback: number, min: number, max: number, integer = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fail(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got ${String(value)}.`);
  }
  return value;
}

/** Validates the `entitlements` option once and fills in the documented defaults. Throws ERR_METERKIT_OPTIONS. */
export function resolveContractEntitlements(options: ContractEntitlementsOptions | undefined): ResolvedContractEntitlements {
  if (options !== undefined && (options === null || typeof options !== 'object')) fail('must be an object.');
  const o = options ?? {};
  const delays = o.staleRetryDelaysMs ?? DEFAULT_STALE_RETRY_DELAYS_MS;
  if (!Array.isArray(delays) || delays.length > 20) fail('staleRetryDelaysMs must be an array of at most 20 delays.');
  delays.forEach((delay, i) => {
    number(`staleRetryDelaysMs[${i}]`, delay, 0, 1, 86_400_000);
    if (i > 0 && delay <= delays[i - 1]!) fail('staleRetryDelaysMs must be ascending.');
  });
  if (o.client !== undefined && (o.client === null || typeof (o.client as { send?: unknown }).send !== 'function')) {
    fail('client must be a MarketplaceEntitlementServiceClient.');
  }
  const retry = o.retry ?? {};
  return {
    requestsPerSecond: number('requestsPerSecond', o.requestsPerSecond, 10, 0.01, 10_000, false),
    refreshIntervalMs: number('refreshIntervalMs', o.refreshIntervalMs, 3_600_000, 60_000, 7 * 86_400_000),
    staleRetryDelaysMs: [...delays],
    cacheMs: number('cacheMs', o.cacheMs, 5000, 0, 3_600_000),
    pageSize: number('pageSize', o.pageSize, 25, 1, 25),
    client: o.client,
    retry: {
      attempts: number('retry.attempts', retry.attempts, 8, 1, 20),
      baseDelayMs: number('retry.baseDelayMs', retry.baseDelayMs, DEFAULT_RETRY.baseDelayMs, 0, 60_000),
      maxDelayMs: number('retry.maxDelayMs', retry.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0, 600_000),
    },
    checkIntervalMs: number('checkIntervalMs', o.checkIntervalMs, 30_000, 100, 3_600_000),
  };
}
