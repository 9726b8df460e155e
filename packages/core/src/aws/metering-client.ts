import { MarketplaceMeteringClient, type MarketplaceMeteringClientConfig } from '@aws-sdk/client-marketplace-metering';
import { ErrorCodes, MeterkitError } from '../errors';
import { boundCalls, resolveCallTimeoutMs } from './call-timeout';

export interface AwsOptions {
  /** Your own client. meterkit then uses its region, credentials and retry settings as they are. */
  client?: MarketplaceMeteringClient;
  /** Region of the metering calls. Default: the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Endpoint override, e.g. `http://127.0.0.1:4599`, where `npx meterkit-emulator` listens by default. */
  endpoint?: string;
  credentials?: MarketplaceMeteringClientConfig['credentials'];
  /**
   * The longest one AWS call meterkit makes waits for its answer (ResolveCustomer, BatchMeterUsage, MeterUsage,
   * RegisterUsage, GetEntitlements), your own `client`'s calls included. Past it the call is aborted and treated as
   * a call without an answer: AWS may have applied it, so its records are journaled as possibly landed and resent
   * under the same identity by the retries (never counted twice), and a registration retries it like a network error.
   * Default 10 000 (1 to 600 000): AWS answers in well under a second, a throttled call answers at once.
   */
  callTimeoutMs?: number;
}

/** AwsOptions as validated once by createMetering(). */
export interface ResolvedAwsOptions extends AwsOptions {
  readonly callTimeoutMs: number;
}

/** Validates the `aws` option once and fills in its defaults. Throws ERR_METERKIT_OPTIONS. */
export function resolveAwsOptions(options: AwsOptions | undefined): ResolvedAwsOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new MeterkitError(ErrorCodes.OPTIONS, 'aws must be an object: { client } or { region, endpoint, credentials, callTimeoutMs }.');
  }
  const aws = options ?? {};
  return { ...aws, callTimeoutMs: resolveCallTimeoutMs(aws.callTimeoutMs) };
}

/**
 * Builds the client meterkit calls AWS with, or takes the one given, each call bounded by `callTimeoutMs`. The SDK's
 * own retries are off (maxAttempts 1): meterkit retries itself, journaling every attempt, so it knows which records
 * AWS may already hold.
 */
export function createMeteringClient(options: AwsOptions): MarketplaceMeteringClient {
  const timeoutMs = resolveCallTimeoutMs(options.callTimeoutMs);
  if (options.client !== undefined) return boundCalls(options.client, timeoutMs);
  return boundCalls(
    new MarketplaceMeteringClient({
      maxAttempts: 1,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
    timeoutMs,
  );
}
