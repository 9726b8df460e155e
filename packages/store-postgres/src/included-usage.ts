import { allowanceCounterId, meteredAbove } from '@meterkit/core';
import type { IncludedUse, UsageDelta } from '@meterkit/core';

/** Identifies one allowance counter: (customerKey, allowanceDimension, periodStart). */
export interface CounterKey {
  readonly customerKey: string;
  readonly allowanceDimension: string;
  readonly periodStart: number;
}

/** The counters a batch's uses add to, each with the sum of its uses. */
export function countersOf(uses: readonly IncludedUse[]): { key: CounterKey; quantity: number }[] {
  const byId = new Map<string, { key: CounterKey; quantity: number }>();
  for (const use of uses) {
    const id = allowanceCounterId(use.delta.customerKey, use.allowanceDimension, use.periodStart);
    const entry = byId.get(id);
    if (entry === undefined) {
      byId.set(id, {
        key: { customerKey: use.delta.customerKey, allowanceDimension: use.allowanceDimension, periodStart: use.periodStart },
        quantity: use.delta.quantity,
      });
    } else entry.quantity += use.delta.quantity;
  }
  return [...byId.values()];
}

/**
 * Walks the uses in order from each counter's value before the batch (keyed by allowanceCounterId()): per use, the
 * units metered, and the deltas those units add to the metered records (none for a use wholly included).
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
