import type { ClaimRequest } from '../usage-store';
import { recordId } from '../usage-store';
import type { CustomerIdentity, CustomerRecord, LegacyIdentity, LicenseIdentity } from '../../model/customer';
import { customerKey } from '../../model/customer';
import type { FinalTotal, FrozenUsage, Tags, UsageDelta } from '../../model/usage';
import { tagsKey } from '../../model/usage';
import type { DimensionEntitlement, EntitlementSet } from '../../contracts/entitlement-set';
import type { IncludedUse } from '../entitlement-store';

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

export interface SetSpec {
  readonly customer?: CustomerIdentity;
  readonly fetchedAt?: number;
  readonly entitlements?: readonly DimensionEntitlement[];
  readonly trigger?: string;
  readonly revoked?: boolean;
}

/** One customer's entitlement set, by default 10 seats and 1,000 included API calls read at T0. */
export function entitlementSet(spec: SetSpec = {}): EntitlementSet {
  const customer = spec.customer ?? licenseIdentity(1);
  return {
    customerKey: customerKey(customer),
    productCode: customer.productCode,
    entitlements: spec.entitlements ?? [
      { dimension: 'seats', value: 10, valueType: 'integer', expiresAt: T0 + 365 * 24 * HOUR },
      { dimension: 'api_calls', value: 1000, valueType: 'integer' },
    ],
    fetchedAt: spec.fetchedAt ?? T0,
    trigger: spec.trigger ?? 'registration',
    ...(spec.revoked === undefined ? {} : { revoked: spec.revoked }),
  };
}

export interface UseSpec extends Omit<DeltaSpec, 'tags'> {
  readonly allowanceDimension?: string;
  readonly periodStart?: number;
  readonly included?: number;
}

/** Usage of the metered dimension `requests` that the entitlement `api_calls` includes `included` (default 10) units of per hour. */
export function includedUse(spec: UseSpec = {}): IncludedUse {
  const usage = delta(spec);
  return {
    delta: usage,
    allowanceDimension: spec.allowanceDimension ?? 'api_calls',
    periodStart: spec.periodStart ?? usage.hour,
    included: spec.included ?? 10,
  };
}
