import { MarketplaceMeteringClient, type MarketplaceMeteringClientConfig } from '@aws-sdk/client-marketplace-metering';

export interface AwsOptions {
  /** Your own client. meterkit then uses its region, credentials and retry settings as they are. */
  client?: MarketplaceMeteringClient;
  /** Region of the metering calls. Default: the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Endpoint override, e.g. `http://127.0.0.1:4599`, where `npx meterkit-emulator` listens by default. */
  endpoint?: string;
  credentials?: MarketplaceMeteringClientConfig['credentials'];
}

/**
 * Builds the client meterkit calls AWS with. The SDK's own retries are off (maxAttempts 1): meterkit retries
 * itself, journaling every attempt, so it knows which records AWS may already hold.
 */
export function createMeteringClient(options: AwsOptions): MarketplaceMeteringClient {
  if (options.client !== undefined) return options.client;
  return new MarketplaceMeteringClient({
    maxAttempts: 1,
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
}
