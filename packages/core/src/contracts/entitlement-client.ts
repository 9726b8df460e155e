import { MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { boundCalls, resolveCallTimeoutMs } from '../aws/call-timeout';
import type { AwsOptions } from '../aws/metering-client';

/** AWS serves GetEntitlements in us-east-1 only, whatever region the metering calls go to. */
export const ENTITLEMENT_REGION = 'us-east-1';

/**
 * The Entitlement Service client: the one given, or one built from the `aws` option's endpoint and credentials (or
 * the credentials of the metering client given there), region pinned to us-east-1. The SDK's retries are off
 * (maxAttempts 1): meterkit retries throttling and faults itself, under its own rate limit. Each call, the given
 * client's included, is bounded by the `aws` option's callTimeoutMs.
 */
export function createEntitlementClient(aws: AwsOptions, given?: MarketplaceEntitlementServiceClient): MarketplaceEntitlementServiceClient {
  const timeoutMs = resolveCallTimeoutMs(aws.callTimeoutMs);
  if (given !== undefined) return boundCalls(given, timeoutMs);
  const credentials = aws.credentials ?? aws.client?.config.credentials;
  return boundCalls(
    new MarketplaceEntitlementServiceClient({
      region: ENTITLEMENT_REGION,
      maxAttempts: 1,
      ...(aws.endpoint === undefined ? {} : { endpoint: aws.endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
    }),
    timeoutMs,
  );
}
