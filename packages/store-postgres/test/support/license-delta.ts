import { customerKey, tagsKey } from '@meterkit/core';
import type { UsageDelta } from '@meterkit/core';

/** `quantity` api_calls of license buyer `n` of prod-pg in `hour`: one record per buyer. */
export function licenseDelta(n: number, hour: number, quantity: number): UsageDelta {
  const customer = {
    kind: 'license' as const,
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: 'prod-pg',
  };
  return { customer, customerKey: customerKey(customer), productCode: 'prod-pg', dimension: 'api_calls', hour, tagsKey: tagsKey(undefined), quantity };
}
