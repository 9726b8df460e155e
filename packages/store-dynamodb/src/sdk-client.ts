import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * The SDK client's logger. It has no `info`: the SDK builds its info log of every call (a copy of the request and of
 * the response with sensitive fields filtered out, walking their schemas) only when the logger has one, and with the
 * SDK's default no-op logger it built and dropped that copy on every call, an eighth of the store's CPU per call.
 * Warnings go to the console, as the HTTP handler's went without a logger (a socket pool at capacity, say).
 */
const sdkLogger = {
  trace(): void {},
  debug(): void {},
  warn(...message: unknown[]): void {
    console.warn(...message);
  },
  error(): void {},
} as unknown as NonNullable<DynamoDBClientConfig['logger']>;

export interface StoreClientSettings {
  readonly maxAttempts: number;
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
  /** Undefined: the SDK's own resolution. */
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly credentials: DynamoDBClientConfig['credentials'] | undefined;
}

/**
 * The DynamoDB client the store builds when it is given none. (The SDK's `cacheMiddleware` would save a little more
 * per call, but middleware added to `store.client` after its first call, tracing say, would then be ignored.)
 */
export function storeClient(settings: StoreClientSettings): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: settings.maxAttempts,
    // Without throwOnRequestTimeout the SDK only logs a request past requestTimeout and keeps waiting for it.
    requestHandler: { requestTimeout: settings.requestTimeout, connectionTimeout: settings.connectionTimeout, throwOnRequestTimeout: true },
    logger: sdkLogger,
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  });
}
