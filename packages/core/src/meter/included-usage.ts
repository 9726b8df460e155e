import { ErrorCodes, MeterkitError } from '../errors';
import type { EntitlementSet } from '../contracts/entitlement-set';
import { includedAmount, periodStart } from '../contracts/included-allowance';
import type { IncludedAllowance, Product } from '../model/product';
import type { UsageDelta } from '../model/usage';
import type { IncludedUse } from '../store/entitlement-store';

/** Where the persister learns what contracts with consumption include (docs/contracts.md). */
export interface ConsumptionSources {
  /** How usage of `dimension` of product `productCode` is included; undefined when it is metered in full. */
  readonly included: (productCode: string, dimension: string) => IncludedAllowance | undefined;
  /** The customer's current entitlement set; undefined when none is stored. */
  readonly entitlementsOf: (customerKey: string) => Promise<EntitlementSet | undefined>;
}

/** A batch's usage as addUsageAboveIncluded() takes it. */
export interface IncludedSplit {
  /** Usage metered in full. */
  readonly deltas: readonly UsageDelta[];
  /** Usage of included dimensions, each measured against the included amount read for this batch. */
  readonly uses: readonly IncludedUse[];
}

/** Whether any of `deltas` is usage of a dimension an entitlement includes. */
export function hasIncludedUsage(deltas: readonly UsageDelta[], sources: ConsumptionSources): boolean {
  return deltas.some((delta) => sources.included(delta.productCode, delta.dimension) !== undefined);
}

/**
 * Whole units an entitlement value includes. Usage is counted in whole units, so a fractional value (DoubleValue)
 * includes the next whole unit: no unit the contract partly includes is billed (docs/decisions.md).
 */
export function wholeUnitsIncluded(amount: number): number {
  return Math.min(Math.ceil(Math.max(0, amount)), Number.MAX_SAFE_INTEGER);
}

/**
 * Splits a batch into usage metered in full and included uses: allowance dimension and period from the product's
 * `included` settings, the included amount from the customer's entitlement set as read now (once per customer).
 */
export async function splitIncluded(deltas: readonly UsageDelta[], sources: ConsumptionSources): Promise<IncludedSplit> {
  const plain: UsageDelta[] = [];
  const pending: Array<{ delta: UsageDelta; allowance: IncludedAllowance }> = [];
  for (const delta of deltas) {
    const allowance = sources.included(delta.productCode, delta.dimension);
    if (allowance === undefined) plain.push(delta);
    else pending.push({ delta, allowance });
  }
  const customers = [...new Set(pending.map(({ delta }) => delta.customerKey))];
  const sets = await Promise.all(customers.map((key) => sources.entitlementsOf(key)));
  const read = new Map(customers.map((key, i) => [key, sets[i]]));
  const uses = pending.map(({ delta, allowance }): IncludedUse => ({
    delta,
    allowanceDimension: allowance.entitlement,
    periodStart: periodStart(allowance.period, delta.hour),
    included: wholeUnitsIncluded(includedAmount(read.get(delta.customerKey), allowance.entitlement)),
  }));
  return { deltas: plain, uses };
}

/** The persister's sources for the configured products; undefined when no product includes usage. */
export function consumptionSources(
  products: ReadonlyMap<string, Product>,
  entitlementsOf: ConsumptionSources['entitlementsOf'],
): ConsumptionSources | undefined {
  if (![...products.values()].some((product) => (product.included?.size ?? 0) > 0)) return undefined;
  return { included: (productCode, dimension) => products.get(productCode)?.included?.get(dimension), entitlementsOf };
}

/**
 * A finalized total is sent as it is, so a total of a dimension an entitlement includes would bill the included
 * units too: setTotal() refuses it. Its usage goes through record(), which meters only the part above.
 */
export function assertTotalNotIncluded(product: Product, dimension: string): void {
  const allowance = product.included?.get(dimension);
  if (allowance === undefined) return;
  throw new MeterkitError(
    ErrorCodes.UNKNOWN_DIMENSION,
    `setTotal() takes no total of ${JSON.stringify(dimension)} of product ${product.productCode}: the entitlement ` +
      `${JSON.stringify(allowance.entitlement)} includes its usage and only the part above it is billed. Record its usage with meter.record().`,
    { details: { productCode: product.productCode, dimension, entitlement: allowance.entitlement } },
  );
}
