import { ErrorCodes, MeterkitError } from '../errors';
import { TERMINAL_STATES } from './usage-store';
import type { Allocation, FrozenUsage, Tags, UsageDelta } from '../model/usage';
import { tagsKey } from '../model/usage';

/** One live allocation row of a record: the running total of one tag set. */
export interface AllocationRow {
  /** '' for untagged usage. */
  readonly tagsKey: string;
  readonly tags?: Tags;
  readonly quantity: number;
}

/**
 * The snapshot sent for a record, built from its allocation rows.
 * Untagged-only usage is sent without allocations; otherwise every allocation is listed, ordered by
 * tagsKey, so that every retry sends a byte-identical record.
 */
export function frozenUsageFromAllocations(rows: readonly AllocationRow[]): FrozenUsage {
  const sorted = [...rows].sort((a, b) => compareKeys(a.tagsKey, b.tagsKey));
  const quantity = sorted.reduce((sum, row) => sum + row.quantity, 0);
  if (sorted.every((row) => row.tagsKey === '')) return { quantity, allocations: [] };
  const allocations = sorted.map((row): Allocation =>
    row.tagsKey === '' || row.tags === undefined
      ? { quantity: row.quantity }
      : { tags: canonicalTags(row.tags), quantity: row.quantity },
  );
  return { quantity, allocations };
}

/** A copy of the tags with keys in code-unit order, so that serializing them gives the same bytes. */
function canonicalTags(tags: Tags): Tags {
  const copy: Record<string, string> = {};
  for (const key of Object.keys(tags).sort(compareKeys)) copy[key] = tags[key] as string;
  return copy;
}

/**
 * Rejects usage no store can keep or AWS accept (quantities and hours are non-negative integers), before
 * anything is changed.
 */
export function assertStorableDelta(delta: UsageDelta): void {
  if (!Number.isSafeInteger(delta.quantity) || delta.quantity < 0 || !Number.isSafeInteger(delta.hour)) {
    throw new MeterkitError(ErrorCodes.STORE, 'Usage cannot be stored: quantity and hour must be non-negative integers', {
      details: { dimension: delta.dimension, hour: delta.hour, quantity: delta.quantity },
    });
  }
}

/** The allocation rows a frozen usage stands for (an empty allocation list is one untagged row). */
export function allocationRowsOf(usage: FrozenUsage): AllocationRow[] {
  if (usage.allocations.length === 0) return [{ tagsKey: '', quantity: usage.quantity }];
  const byKey = new Map<string, AllocationRow>();
  for (const allocation of usage.allocations) {
    const key = tagsKey(allocation.tags);
    const previous = byKey.get(key);
    byKey.set(key, {
      tagsKey: key,
      ...(allocation.tags === undefined ? {} : { tags: { ...allocation.tags } }),
      quantity: (previous?.quantity ?? 0) + allocation.quantity,
    });
  }
  return [...byKey.values()];
}

/** Whether two frozen usages send the same thing: same quantity and same allocations, in any order. */
export function sameFrozenUsage(a: FrozenUsage, b: FrozenUsage): boolean {
  if (a.quantity !== b.quantity || a.allocations.length !== b.allocations.length) return false;
  const left = canonicalAllocations(a);
  const right = canonicalAllocations(b);
  return left.every((entry, index) => entry === right[index]);
}

function canonicalAllocations(usage: FrozenUsage): string[] {
  return usage.allocations
    .map((allocation) => JSON.stringify([tagsKey(allocation.tags), allocation.quantity]))
    .sort(compareKeys);
}

/** Code-unit order, independent of locale, so every store and process sorts the same way. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rejects a settlement into a state that is not terminal, before anything is changed. */
export function assertTerminalState(state: string): void {
  if (!(TERMINAL_STATES as readonly string[]).includes(state)) {
    throw new MeterkitError(ErrorCodes.STORE, `A record cannot be settled as ${JSON.stringify(state)}: not a terminal state`);
  }
}
