import { assertStorableDelta, ErrorCodes, MeterkitError } from '@meterkit/core';
import type { EntitlementSet, IncludedUse, UsageDelta } from '@meterkit/core';

/** Identifies one allowance counter: (customerKey, allowanceDimension, periodStart). */
export interface CounterKey {
  readonly customerKey: string;
  readonly allowanceDimension: string;
  readonly periodStart: number;
}

/** The units a use adds to the metered record: what it takes the counter above `included`, minus what was above already. */
export function meteredPart(usedBefore: number, quantity: number, included: number): number {
  return Math.max(0, usedBefore + quantity - included) - Math.max(0, usedBefore - included);
}

/** A use's counter sum and the order the counters are locked in. */
export function countersOf(uses: readonly IncludedUse[]): { key: CounterKey; quantity: number }[] {
  const byKey = new Map<string, { key: CounterKey; quantity: number }>();
  for (const use of uses) {
    const id = counterId(use.delta.customerKey, use.allowanceDimension, use.periodStart);
    const entry = byKey.get(id);
    if (entry === undefined) {
      byKey.set(id, {
        key: { customerKey: use.delta.customerKey, allowanceDimension: use.allowanceDimension, periodStart: use.periodStart },
        quantity: use.delta.quantity,
      });
    } else entry.quantity += use.delta.quantity;
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
}

export function counterId(customerKey: string, allowanceDimension: string, periodStart: number): string {
  return JSON.stringify([customerKey, allowanceDimension, periodStart]);
}

/**
 * Walks the uses in order from each counter's value before the batch: per use, the units metered, and the deltas
 * those units add to the metered records (none for a use entirely included).
 */
export function meterUses(
  uses: readonly IncludedUse[],
  usedBefore: ReadonlyMap<string, number>,
): { metered: number[]; deltas: UsageDelta[] } {
  const used = new Map(usedBefore);
  const metered: number[] = [];
  const deltas: UsageDelta[] = [];
  for (const use of uses) {
    const id = counterId(use.delta.customerKey, use.allowanceDimension, use.periodStart);
    const before = used.get(id) ?? 0;
    const part = meteredPart(before, use.delta.quantity, use.included);
    used.set(id, before + use.delta.quantity);
    metered.push(part);
    if (part > 0) deltas.push({ ...use.delta, quantity: part });
  }
  return { metered, deltas };
}

/** Included units are whole units, like quantities: the engine rounds an entitlement's DoubleValue before it writes. */
export function assertStorableUse(use: IncludedUse): void {
  assertStorableDelta(use.delta);
  const { allowanceDimension, periodStart, included } = use;
  if (typeof allowanceDimension !== 'string' || allowanceDimension === '' || !Number.isSafeInteger(periodStart) || !Number.isSafeInteger(included) || included < 0) {
    throw new MeterkitError(
      ErrorCodes.STORE,
      'Included usage cannot be stored: the allowance dimension must be a non-empty string, periodStart an integer and included a non-negative integer',
      { details: { dimension: use.delta.dimension, allowanceDimension, periodStart, included } },
    );
  }
}

export function assertStorableSet(set: EntitlementSet): void {
  if (typeof set.customerKey !== 'string' || set.customerKey === '' || !Number.isFinite(set.fetchedAt)) {
    throw new MeterkitError(ErrorCodes.STORE, 'An entitlement set cannot be stored: it needs a customer key and a finite fetchedAt', {
      details: { productCode: set.productCode, fetchedAt: set.fetchedAt },
    });
  }
}
