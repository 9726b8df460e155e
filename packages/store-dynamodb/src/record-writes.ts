import { recordId } from '@meterkit/core';
import type { UsageDelta } from '@meterkit/core';
import type { TagSetTotals } from './tag-budget';

/**
 * Most tag sets one record write carries. DynamoDB caps an update expression at 4 KB and 300 operators; a tag set
 * takes about 27 characters of it (an ADD and a SET).
 */
export const TAG_SETS_PER_WRITE = 50;

/**
 * One conditional UpdateItem of a batch to one record: all the batch's deltas to that record, summed per tag set,
 * or a share of their tag sets when there are more than one write carries. `part` tells a record's writes apart
 * in their markers.
 */
export interface RecordWrite {
  readonly id: string;
  readonly part: number;
  readonly first: UsageDelta;
  readonly deltas: readonly UsageDelta[];
  readonly quantity: number;
  readonly allocations: TagSetTotals;
}

interface RecordGroup {
  readonly id: string;
  readonly deltas: UsageDelta[];
  readonly allocations: TagSetTotals;
}

/**
 * The writes that add `deltas` to their records: one per record, more for a record with over TAG_SETS_PER_WRITE tag
 * sets (cut in tags-key order, untagged usage in the first). The same deltas give the same writes on every retry.
 */
export function recordWrites(deltas: readonly UsageDelta[]): RecordWrite[] {
  const writes: RecordWrite[] = [];
  for (const group of groupByRecord(deltas)) {
    if (group.allocations.size <= TAG_SETS_PER_WRITE) {
      writes.push(write(group.id, 0, group.deltas, group.allocations));
      continue;
    }
    const keys = [...group.allocations.keys()].sort();
    for (let start = 0, part = 0; start < keys.length; start += TAG_SETS_PER_WRITE, part++) {
      const share = new Set(keys.slice(start, start + TAG_SETS_PER_WRITE));
      const allocations = new Map([...share].map((key) => [key, group.allocations.get(key)!]));
      writes.push(write(group.id, part, group.deltas.filter((delta) => share.has(delta.tagsKey)), allocations));
    }
  }
  return writes;
}

function write(id: string, part: number, deltas: readonly UsageDelta[], allocations: TagSetTotals): RecordWrite {
  let quantity = 0;
  for (const allocation of allocations.values()) quantity += allocation.quantity;
  return { id, part, first: deltas[0]!, deltas, quantity, allocations };
}

function groupByRecord(deltas: readonly UsageDelta[]): RecordGroup[] {
  const groups = new Map<string, RecordGroup>();
  for (const delta of deltas) {
    const id = recordId(delta.customerKey, delta.dimension, delta.hour);
    let group = groups.get(id);
    if (group === undefined) {
      group = { id, deltas: [], allocations: new Map() };
      groups.set(id, group);
    }
    group.deltas.push(delta);
    const allocation = group.allocations.get(delta.tagsKey) ?? { tags: delta.tags, quantity: 0 };
    allocation.quantity += delta.quantity;
    group.allocations.set(delta.tagsKey, allocation);
  }
  return [...groups.values()];
}
