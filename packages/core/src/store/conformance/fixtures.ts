import type { ClaimRequest } from '../usage-store';
import { recordId } from '../usage-store';
import type { CustomerIdentity, CustomerRecord, LegacyIdentity, LicenseIdentity } from '../../model/customer';
import { customerKey } from '../../model/customer';
import type { FinalTotal, FrozenUsage, Tags, UsageDelta } from '../../model/usage';
import { tagsKey } from '../../model/usage';

export const HOUR = 3_600_000;
/** 2025-01-01T00:00:00Z */
export const T0 = Date.UTC(2025, 0, 1);
export const PRODUCT = 'prod-conformance';

export function hour(n: number): number {
  return T0 + n * HOUR;
}

export function licenseIdentity(n: number): LicenseIdentity {
  return {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: PRODUCT,
  };
}

export function legacyIdentifierIdentity(n: number): LegacyIdentity {
  return { kind: 'legacy', productCode: PRODUCT, customerIdentifier: `cust-${n}` };
}

export function legacyAccountIdentity(n: number): LegacyIdentity {
  return { kind: 'legacy', productCode: PRODUCT, customerAwsAccountId: String(200000000000 + n) };
}

export interface DeltaSpec {
  readonly customer?: CustomerIdentity;
  readonly dimension?: string;
  readonly hour?: number;
  readonly tags?: Tags;
  readonly quantity?: number;
}

export function delta(spec: DeltaSpec = {}): UsageDelta {
  const customer = spec.customer ?? licenseIdentity(1);
  return {
    customer,
    customerKey: customerKey(customer),
    productCode: customer.productCode,
    dimension: spec.dimension ?? 'requests',
    hour: spec.hour ?? hour(0),
    tagsKey: tagsKey(spec.tags),
    ...(spec.tags === undefined ? {} : { tags: spec.tags }),
    quantity: spec.quantity ?? 1,
  };
}

export function finalTotal(usage: FrozenUsage, spec: Omit<DeltaSpec, 'tags' | 'quantity'> = {}): FinalTotal {
  const customer = spec.customer ?? licenseIdentity(1);
  return {
    customer,
    customerKey: customerKey(customer),
    productCode: customer.productCode,
    dimension: spec.dimension ?? 'requests',
    hour: spec.hour ?? hour(0),
    usage,
  };
}

export function customerRecord(identity: CustomerIdentity, extra: Partial<CustomerRecord> = {}): CustomerRecord {
  return {
    key: customerKey(identity),
    identity,
    status: 'active',
    registeredAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

/** A claim at hour 10 that makes every earlier hour due, with a one-minute lease. */
export function claimRequest(overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return { now: hour(10), dueBefore: hour(10), owner: 'worker-a', leaseMs: 60_000, limit: 1000, ...overrides };
}

export function idOf(spec: Pick<DeltaSpec, 'customer' | 'dimension' | 'hour'> = {}): string {
  const d = delta(spec);
  return recordId(d.customerKey, d.dimension, d.hour);
}
