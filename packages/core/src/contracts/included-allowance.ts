import { hourOf } from '../model/hours';
import type { IncludedAllowance } from '../model/product';
import type { EntitlementSet } from './entitlement-set';

/** Start (ms epoch) of the period `time` falls in: its UTC hour, or its UTC calendar month. */
export function periodStart(period: IncludedAllowance['period'], time: number): number {
  if (period === 'hour') return hourOf(time);
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/**
 * Units of `entitlement` each period includes: its numeric value (IntegerValue or DoubleValue). A missing, revoked or
 * non-numeric entitlement includes nothing: all usage is metered.
 */
export function includedAmount(set: EntitlementSet | undefined, entitlement: string): number {
  if (set === undefined || set.revoked === true) return 0;
  const found = set.entitlements.find((e) => e.dimension === entitlement);
  return found !== undefined && typeof found.value === 'number' && Number.isFinite(found.value) && found.value > 0 ? found.value : 0;
}
