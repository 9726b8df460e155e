import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { ErrorCodes, MeterkitError } from '@meterkit/core';
import { storeClient } from './sdk-client';

export interface DynamoDbStoreOptions {
  /** A client your app already has. The store uses it as is and never destroys it. */
  readonly client?: DynamoDBClient;
  /** Table holding meterkit's items. Default `'meterkit'`. */
  readonly tableName?: string;
  /** Region of the client the store builds when no `client` is given. Default: the SDK's resolution (AWS_REGION). */
  readonly region?: string;
  /** Endpoint of the client the store builds (DynamoDB Local, dynalite). Default: AWS. */
  readonly endpoint?: string;
  /** Credentials of the client the store builds. Default: the SDK's provider chain. */
  readonly credentials?: DynamoDBClientConfig['credentials'];
  /**
   * Attempts per DynamoDB call of the client the store builds, throttling included (SDK retry). Default 8. Refused
   * with your own `client`: set `maxAttempts` on it instead.
   */
  readonly maxAttempts?: number;
  /**
   * The longest one attempt of a DynamoDB call of the client the store builds waits for its answer, connecting
   * included; past it the attempt is abandoned (socket destroyed) and the SDK retries it like a network error, up to
   * `maxAttempts`, then the call rejects with ERR_METERKIT_STORE. A write abandoned this way may have been applied:
   * the store treats it as any write without an answer (conditional writes, markers of batch ids). Worst case per
   * call: maxAttempts x requestTimeoutMs plus the SDK's backoff (about 53 s with the defaults). Default 5000, 1 to
   * 600 000.
   */
  readonly requestTimeoutMs?: number;
  /** The longest the client the store builds waits to open a connection to DynamoDB. Default 3000, 1 to 600 000. */
  readonly connectionTimeoutMs?: number;
  /**
   * Settled records get `expiresAt` (epoch seconds) this long after they settle, for DynamoDB's TTL to delete
   * them. Enable TTL on `expiresAt` in the table. Default: none (settled records are kept).
   */
  readonly settledTtlSeconds?: number;
  /** How often a write that lost a race (conditional check failed) is re-read and retried. Default 20. */
  readonly conflictRetries?: number;
  /**
   * A multi-record write interrupted by a crash is finished by the next claim after this many ms (wall clock).
   * Default 60 000.
   */
  readonly recoverBatchesAfterMs?: number;
  /** Records leased or frozen in parallel by one claim. Default 16. */
  readonly concurrency?: number;
  /**
   * DynamoDB calls the store starts in one turn of the event loop, 1 to 256; the others start in the turns after, in
   * order. Default 2. The SDK does about a millisecond of CPU starting a call: 16 started in one turn (a claim's
   * fan-out) held the event loop ~20 ms. The bound is also a rate: a process whose turns last 10 ms under load starts
   * at most 100 x `callsPerTurn` calls a second (the store makes about five per record it sends). Raise it for a
   * process that does little else.
   */
  readonly callsPerTurn?: number;
}

export interface ResolvedDynamoDbOptions {
  readonly client: DynamoDBClient;
  readonly ownsClient: boolean;
  readonly tableName: string;
  readonly settledTtlSeconds: number | undefined;
  readonly conflictRetries: number;
  readonly recoverBatchesAfterMs: number;
  readonly concurrency: number;
  readonly callsPerTurn: number;
}

/** One attempt of a DynamoDB call (docs/decisions.md). */
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
const DEFAULT_CONNECTION_TIMEOUT_MS = 3000;

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `DynamoDbStore: ${message}`);
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer between ${min} and ${max}, got ${String(value)}.`);
  }
  return value;
}

/** Validates the store options once and fills in the documented defaults. Throws ERR_METERKIT_OPTIONS. */
export function resolveDynamoDbOptions(options: DynamoDbStoreOptions = {}): ResolvedDynamoDbOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object.');
  const tableName = options.tableName ?? 'meterkit';
  if (typeof tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    fail(`tableName must be 3-255 characters of A-Z, a-z, 0-9, _ - and ., got ${JSON.stringify(tableName)}.`);
  }
  if (options.client !== undefined && (options.endpoint !== undefined || options.region !== undefined || options.credentials !== undefined)) {
    fail('give either `client` or `region`/`endpoint`/`credentials`, not both.');
  }
  if (options.client !== undefined && (options.requestTimeoutMs !== undefined || options.connectionTimeoutMs !== undefined)) {
    fail('`requestTimeoutMs` and `connectionTimeoutMs` configure the client the store builds: set the timeouts on your own `client` (requestHandler) instead.');
  }
  if (options.client !== undefined && options.maxAttempts !== undefined) {
    fail('`maxAttempts` configures the client the store builds: set `maxAttempts` on your own `client` instead.');
  }
  const settledTtlSeconds =
    options.settledTtlSeconds === undefined ? undefined : integer('settledTtlSeconds', options.settledTtlSeconds, 0, 60, 10 * 365 * 86_400);
  const common = {
    tableName,
    settledTtlSeconds,
    conflictRetries: integer('conflictRetries', options.conflictRetries, 20, 1, 1000),
    recoverBatchesAfterMs: integer('recoverBatchesAfterMs', options.recoverBatchesAfterMs, 60_000, 0, 86_400_000),
    concurrency: integer('concurrency', options.concurrency, 16, 1, 256),
    callsPerTurn: integer('callsPerTurn', options.callsPerTurn, 2, 1, 256),
  };
  if (options.client !== undefined) {
    if (typeof (options.client as { send?: unknown }).send !== 'function') fail('client must be a DynamoDBClient.');
    return { ...common, client: options.client, ownsClient: false };
  }
  const maxAttempts = integer('maxAttempts', options.maxAttempts, 8, 1, 50);
  const requestTimeout = integer('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 1, 600_000);
  const connectionTimeout = integer('connectionTimeoutMs', options.connectionTimeoutMs, DEFAULT_CONNECTION_TIMEOUT_MS, 1, 600_000);
  const client = storeClient({
    maxAttempts,
    requestTimeout,
    connectionTimeout,
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
  });
  return { ...common, client, ownsClient: true };
}
