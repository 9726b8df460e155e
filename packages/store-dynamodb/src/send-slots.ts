import { extendSendSlotRing, nextSendSlot } from '@meterkit/core';
import { n, s } from './record-item';
import type { Table } from './table';
import { SEND_SLOTS_PK } from './table-layout';

/**
 * takeSendSlot() on one item per scope holding the last grant times (`times`, JSON) and a version (`v`): read
 * consistently, decide, and write only if the version is still the one read. A writer that lost the race reads
 * again; after `conflictRetries` lost races it is told to wait for a share of the window instead of being granted.
 */
export async function takeSendSlot(t: Table, conflictRetries: number, scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
  for (let attempt = 0; attempt < conflictRetries; attempt++) {
    const item = await t.get(SEND_SLOTS_PK, scope);
    const version = item?.v?.N === undefined ? undefined : Number(item.v.N);
    const ring = item?.times?.S === undefined ? [] : (JSON.parse(item.times.S) as number[]);
    const decision = nextSendSlot(ring, now, capacity, windowMs);
    if (!decision.granted) return decision.waitMs;
    const written = await t.put({
      Item: { ...t.key(SEND_SLOTS_PK, scope), times: s(JSON.stringify(decision.ring)), v: n((version ?? 0) + 1) },
      ...(version === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'v = :v', ExpressionAttributeValues: { ':v': n(version) } }),
    });
    if (written) return 0;
  }
  return Math.max(1, Math.ceil(windowMs / capacity));
}

/** extendSendSlot(): the same read, decide and versioned write; a grant no longer in the ring changes nothing. */
export async function extendSendSlot(t: Table, conflictRetries: number, scope: string, grantedAt: number, until: number): Promise<void> {
  for (let attempt = 0; attempt < conflictRetries; attempt++) {
    const item = await t.get(SEND_SLOTS_PK, scope);
    if (item?.times?.S === undefined || item.v?.N === undefined) return;
    const ring = extendSendSlotRing(JSON.parse(item.times.S) as number[], grantedAt, until);
    if (ring === undefined) return;
    const written = await t.put({
      Item: { ...t.key(SEND_SLOTS_PK, scope), times: s(JSON.stringify(ring)), v: n(Number(item.v.N) + 1) },
      ConditionExpression: 'v = :v',
      ExpressionAttributeValues: { ':v': item.v },
    });
    if (written) return;
  }
}
