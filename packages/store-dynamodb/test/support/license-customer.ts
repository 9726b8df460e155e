import { customerKey, type CustomerIdentity, type CustomerRecord, type LicenseIdentity } from '@meterkit/core';

/** One Concurrent Agreements buyer of `prod-x`, as the store tests meter it. */
export const licenseCustomer: CustomerIdentity = {
  kind: 'license',
  licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001',
  customerAwsAccountId: '100000000001',
  productCode: 'prod-x',
};

/** Registry record of the n-th Concurrent Agreements buyer of `prod-ddb`, active unless `extra` says otherwise. */
export function licenseRecord(n: number, extra: Partial<CustomerRecord> = {}): CustomerRecord {
  const identity: LicenseIdentity = {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(8, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: 'prod-ddb',
  };
  return { key: customerKey(identity), identity, status: 'active', registeredAt: 1, updatedAt: 1, ...extra };
}
