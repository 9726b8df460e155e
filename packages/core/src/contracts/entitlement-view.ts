import { ErrorCodes, MeterkitError } from '../errors';
import { isContract, type Product } from '../model/product';
import type { AllowanceCounter } from '../store/entitlement-store';
import type { EntitlementSet, EntitlementView } from './entitlement-set';
import { periodStart } from './included-allowance';

/** What a request meter of a contract customer holds: the stored set and allowance counters as last read here. */
export interface MeterEntitlements {
  readonly set: EntitlementSet | undefined;
  /** The customer's allowance counters (contracts with consumption); empty otherwise. */
  readonly counters: readonly AllowanceCounter[];
}

/**
 * `meter.entitlement(dimension)`: the buyer's value of one contract dimension, its expiry, and whether the buyer is
 * within it (holds it and, for an entitlement that includes metered usage, has not used up the period's part).
 * Throws ERR_METERKIT_NOT_A_CONTRACT for a subscription product and ERR_METERKIT_UNKNOWN_DIMENSION for a dimension
 * the product's `entitlements` do not list.
 */
export function entitlementView(product: Product, loaded: MeterEntitlements | undefined, dimension: string, hour: number): EntitlementView {
  if (!isContract(product)) {
    throw new MeterkitError(ErrorCodes.NOT_A_CONTRACT, `Product ${product.productCode} is sold as a subscription: it has no contract entitlements to check.`, {
      details: { productCode: product.productCode },
    });
  }
  const listed = product.entitlements;
  if (typeof dimension !== 'string' || (listed !== undefined && listed.size > 0 && !listed.has(dimension))) {
    throw new MeterkitError(
      ErrorCodes.UNKNOWN_DIMENSION,
      `${JSON.stringify(dimension)} is not one of product ${product.productCode}'s entitlements (${[...(listed ?? [])].join(', ')}).`,
      { details: { productCode: product.productCode } },
    );
  }
  const set = loaded?.set;
  const found = set === undefined || set.revoked === true ? undefined : set.entitlements.find((e) => e.dimension === dimension);
  const value = found?.value;
  const holds = value === true || (typeof value === 'string' && value.length > 0) || (typeof value === 'number' && value > 0);
  const allowance = [...(product.included?.values() ?? [])].find((a) => a.entitlement === dimension);
  let used: number | undefined;
  if (allowance !== undefined) {
    const start = periodStart(allowance.period, hour);
    used = loaded?.counters.find((c) => c.allowanceDimension === dimension && c.periodStart === start)?.used ?? 0;
  }
  return {
    dimension,
    value,
    ...(found?.expiresAt === undefined ? {} : { expiresAt: found.expiresAt }),
    // Usage is counted in whole units: a fractional value includes the unit it partly covers.
    within: holds && (used === undefined || typeof value !== 'number' || used < Math.ceil(value)),
    ...(used === undefined ? {} : { used }),
    ...(set === undefined ? {} : { fetchedAt: set.fetchedAt }),
  };
}
