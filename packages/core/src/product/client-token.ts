import { createHash } from 'node:crypto';
import type { MeterUsageCommandInput } from '@aws-sdk/client-marketplace-metering';

/**
 * A ClientToken that is a pure function of the sending instance (`instanceId`, see MeteringOptions.instanceId) and
 * of what is sent (product, dimension, hour, frozen quantity and allocations): a resend after a lost answer carries
 * the same token and AWS answers the same MeteringRecordId, while two instances reporting the same usage for the
 * same hour send different tokens (AWS does not say whether it remembers a token per instance or per account).
 * 43 characters of base64url SHA-256, well inside MeterUsage's 64.
 */
export function clientTokenFor(input: Omit<MeterUsageCommandInput, 'ClientToken'>, instanceId: string): string {
  const canonical = JSON.stringify([
    'meterkit/2',
    instanceId,
    input.ProductCode,
    input.UsageDimension,
    input.Timestamp?.getTime(),
    input.UsageQuantity ?? 0,
    (input.UsageAllocations ?? []).map((a) => [a.AllocatedUsageQuantity, (a.Tags ?? []).map((t) => [t.Key, t.Value])]),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}
