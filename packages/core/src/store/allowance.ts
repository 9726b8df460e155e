import { ErrorCodes, MeterkitError } from '../errors';
import type { EntitlementSet } from '../contracts/entitlement-set';
import type { IncludedUse } from './entitlement-store';
import { assertStorableDelta } from './frozen-usage';

/**
 * The units of `quantity` to meter when a period whose entitlement includes `included` units has already used
 * `used`: the part of the new usage above what is included, max(0, used + q − included) − max(0, used − included).
 * Summed over any split of a period's usage into uses, it is max(0, total − included).
 */
export function meteredAbove(used: number, quantity: number, included: number): number {
  return Math.max(0, used + quantity - included) - Math.max(0, used - included);
}

/** Rejects a use no store can keep (its delta as assertStorableDelta(); `included` and `periodStart` whole, non-negative numbers), before anything is changed. */
export function assertStorableUse(use: IncludedUse): void {
  assertStorableDelta(use.delta);
  if (!Number.isSafeInteger(use.included) || use.included < 0 || !Number.isSafeInteger(use.periodStart) || use.allowanceDimension === '') {
    throw new MeterkitError(
      ErrorCodes.STORE,
      'Included usage cannot be stored: included and periodStart must be non-negative integers and allowanceDimension not empty',
      { details: { dimension: use.delta.dimension, allowanceDimension: use.allowanceDimension, included: use.included, periodStart: use.periodStart } },
    );
  }
}

/** Rejects an entitlement set no store can keep (fetchedAt a finite number, a customer key), before anything is changed. */
export function assertStorableEntitlementSet(set: EntitlementSet): void {
  if (!Number.isFinite(set.fetchedAt) || set.customerKey === '') {
    throw new MeterkitError(ErrorCodes.STORE, 'An entitlement set cannot be stored: it needs a customer key and a finite fetchedAt', {
      details: { customerKey: set.customerKey, fetchedAt: set.fetchedAt },
    });
  }
}

/** Stable id of the allowance counter of (customer, allowance dimension, period). */
export function allowanceCounterId(customerKey: string, allowanceDimension: string, periodStart: number): string {
  return `${customerKey}\u001f${allowanceDimension}\u001f${periodStart}`;
}
