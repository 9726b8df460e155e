import { createHash } from 'node:crypto';
import type { MeterUsageCommandInput } from '@aws-sdk/client-marketplace-metering';

/**
 * A ClientToken that is a pure function of what is sent (product, dimension, hour, frozen quantity and
 * allocations): a resend after a lost answer carries the same token and AWS answers the same MeteringRecordId.
 * 43 characters of base64url SHA-256, well inside MeterUsage's 64.
 */
export function clientTokenFor(input: Omit<MeterUsageCommandInput, 'ClientToken'>): string {
  const canonical = JSON.stringify([
    'meterkit/1',
    input.ProductCode,
    input.UsageDimension,
    input.Timestamp?.getTime(),
    input.UsageQuantity ?? 0,
    (input.UsageAllocations ?? []).map((a) => [a.AllocatedUsageQuantity, (a.Tags ?? []).map((t) => [t.Key, t.Value])]),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}
