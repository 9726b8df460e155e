import { ErrorCodes, MeterkitError } from '../errors';
import type { EntitlementSet } from '../contracts/entitlement-set';
import type { IncludedUse } from './entitlement-store';
import type { UsageDelta } from '../model/usage';
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

/** One allowance counter a batch adds to, with the sum of the batch's uses of it. */
export interface AllowanceAddition {
  /** allowanceCounterId() */
  readonly id: string;
  readonly customerKey: string;
  readonly allowanceDimension: string;
  readonly periodStart: number;
  quantity: number;
}

/** The counters a batch's uses add to, each once, with the sum of its uses, in first-use order. */
export function allowanceAdditions(uses: readonly IncludedUse[]): AllowanceAddition[] {
  const byId = new Map<string, AllowanceAddition>();
  for (const use of uses) {
    const id = allowanceCounterId(use.delta.customerKey, use.allowanceDimension, use.periodStart);
    const entry = byId.get(id);
    if (entry === undefined) {
      byId.set(id, { id, customerKey: use.delta.customerKey, allowanceDimension: use.allowanceDimension, periodStart: use.periodStart, quantity: use.delta.quantity });
    } else entry.quantity += use.delta.quantity;
  }
  return [...byId.values()];
}

/**
 * Walks the uses in order from each counter's value before the batch (keyed by allowanceCounterId()): per use, the
 * units metered, and the deltas those units add to the metered records (none for a use wholly included). For stores
 * that read the counters before applying a batch in one transaction.
 */
export function meterUses(uses: readonly IncludedUse[], usedBefore: ReadonlyMap<string, number>): { metered: number[]; deltas: UsageDelta[] } {
  const used = new Map(usedBefore);
  const metered: number[] = [];
  const deltas: UsageDelta[] = [];
  for (const use of uses) {
    const id = allowanceCounterId(use.delta.customerKey, use.allowanceDimension, use.periodStart);
    const before = used.get(id) ?? 0;
    const part = meteredAbove(before, use.delta.quantity, use.included);
    used.set(id, before + use.delta.quantity);
    metered.push(part);
    if (part > 0) deltas.push({ ...use.delta, quantity: part });
  }
  return { metered, deltas };
}
