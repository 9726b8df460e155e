import { TERMINAL_STATES } from '@meterkit/core';
import type { HourStats, RecordQuery, RecordState, StoreStats, StoredRecord } from '@meterkit/core';
import { compareKeysOf } from './order';
import { s, toStoredRecord } from './record-item';
import type { Table } from './table';

const ALL_STATES: readonly RecordState[] = ['open', 'pending', 'sending', ...TERMINAL_STATES];
const UNSETTLED: ReadonlySet<RecordState> = new Set(['open', 'pending', 'sending']);

/** Every usage record. A consistent scan: listing and statistics are for operators and status pages, not claims. */
async function allRecords(t: Table): Promise<StoredRecord[]> {
  const items = await t.scan({
    FilterExpression: 'begins_with(pk, :records)',
    ExpressionAttributeValues: { ':records': s('R#') },
    ConsistentRead: true,
  });
  return items.map(toStoredRecord);
}

export async function listRecords(t: Table, query: RecordQuery): Promise<StoredRecord[]> {
  if (query.limit !== undefined && query.limit <= 0) return [];
  const states = query.states === undefined ? undefined : new Set(query.states);
  const matching = (await allRecords(t)).filter(
    (record) =>
      (states === undefined || states.has(record.state)) &&
      (query.customerKey === undefined || record.customerKey === query.customerKey) &&
      (query.hourFrom === undefined || record.hour >= query.hourFrom) &&
      (query.hourTo === undefined || record.hour < query.hourTo),
  );
  matching.sort((a, b) => a.hour - b.hour || compareKeysOf(a.id, b.id));
  return query.limit === undefined ? matching : matching.slice(0, Math.trunc(query.limit));
}

export async function stats(t: Table): Promise<StoreStats> {
  const countsByState = Object.fromEntries(ALL_STATES.map((state) => [state, 0])) as Record<RecordState, number>;
  const byHour = new Map<number, { records: number; quantity: number }>();
  let lateQuantity = 0;
  let lastSentAt: number | undefined;
  for (const record of await allRecords(t)) {
    countsByState[record.state] += 1;
    if (record.state === 'sent' && record.settledAt !== undefined && (lastSentAt === undefined || record.settledAt > lastSentAt)) lastSentAt = record.settledAt;
    if (record.frozen !== undefined) lateQuantity += record.quantity - record.frozen.quantity;
    if (!UNSETTLED.has(record.state)) continue;
    const hour = byHour.get(record.hour) ?? { records: 0, quantity: 0 };
    hour.records += 1;
    hour.quantity += record.quantity;
    byHour.set(record.hour, hour);
  }
  const unsettledByHour: HourStats[] = [...byHour.entries()].sort(([a], [b]) => a - b).map(([hour, totals]) => ({ hour, ...totals }));
  return { unsettledByHour, countsByState, lateQuantity, lastSentAt };
}
