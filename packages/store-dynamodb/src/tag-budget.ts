import type { Tags } from '@meterkit/core';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { tagSetAttributes } from './tag-sets';
import type { TagSetAttributes } from './tag-sets';

/**
 * Units a record's tag sets may take: 2,500 units of 128 bytes, 320 KB of its item, the rest of DynamoDB's 400 KB
 * left to the record's own attributes and write markers. 2,500 short tag sets (AWS's most per record) fit; of
 * AWS's longest tags (five keys of 100 and values of 256 characters, 33 units each) 75.
 */
export const TAG_UNITS_PER_RECORD = 2500;
/** The record attribute holding the names of the units its tag sets take: a string set, so re-adding one is a no-op. */
export const UNITS_ATTRIBUTE = 'u';

/** A write's totals per tags key ('' for untagged usage). */
export type TagSetTotals = Map<string, { tags: Tags | undefined; quantity: number }>;

/** A tag set as a write places it: its total and the attributes it is written to. */
export interface PlannedTagSet {
  readonly tags: Tags | undefined;
  readonly quantity: number;
  readonly attributes: TagSetAttributes;
}

/** How a write's tag sets go to a record: within its budget, the rest counted untagged. */
export interface TagPlan {
  /** Per tags key; tag sets over the budget are folded into the untagged one (''). */
  readonly allocations: Map<string, PlannedTagSet>;
  /** Units of the tag sets written tagged, to add to the record's `u` set. */
  readonly units: string[];
  /** The write applies only if the record's `u` set has at most this many units (it then stays within budget). */
  readonly maxUnitsBefore: number;
  /** Tags keys of the tag sets counted untagged. */
  readonly folded: string[];
}

/**
 * Which tag sets of a write stay tagged on a record. `current` is the record as last read, or undefined when it
 * was not read: every tag set is then taken as new and the record's units as none, which the write's condition
 * checks. Tag sets the record already holds cost nothing more; new ones are taken in tags-key order while they fit.
 */
export function planTagSets(allocations: TagSetTotals, current: Record<string, AttributeValue> | undefined): TagPlan {
  const used = current?.[UNITS_ATTRIBUTE]?.SS?.length ?? 0;
  const planned = new Map<string, PlannedTagSet>();
  const units = new Set<string>();
  let newUnits = 0;
  let untagged = allocations.get('')?.quantity ?? 0;
  const folded: string[] = [];
  for (const key of [...allocations.keys()].sort()) {
    const allocation = allocations.get(key)!;
    if (key === '') continue;
    const attributes = tagSetAttributes(key, allocation.tags);
    const held = current?.[attributes.quantity] !== undefined;
    if (!held && used + newUnits + attributes.units.length > TAG_UNITS_PER_RECORD) {
      untagged += allocation.quantity;
      folded.push(key);
      continue;
    }
    if (!held) newUnits += attributes.units.length;
    planned.set(key, { tags: allocation.tags, quantity: allocation.quantity, attributes });
    for (const unit of attributes.units) units.add(unit);
  }
  if (untagged > 0 || allocations.has('')) planned.set('', { tags: undefined, quantity: untagged, attributes: tagSetAttributes('', undefined) });
  return { allocations: planned, units: [...units], maxUnitsBefore: TAG_UNITS_PER_RECORD - newUnits, folded };
}
