import type { CustomerIdentity } from '@meterkit/core';

/** One Concurrent Agreements buyer of `prod-x`, as the store tests meter it. */
export const licenseCustomer: CustomerIdentity = {
  kind: 'license',
  licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001',
  customerAwsAccountId: '100000000001',
  productCode: 'prod-x',
};
