import { TERMINAL_STATES } from '@meterkit/core';
import type { HourStats, RecordQuery, RecordState, StoreStats, StoredRecord } from '@meterkit/core';
import type { Queryable } from './transaction';
import { RECORD_COLUMNS, toStoredRecord } from './rows';
import type { UsageRecordRow } from './rows';
import type { Tables } from './tables';

const ALL_STATES: readonly RecordState[] = ['open', 'pending', 'sending', ...TERMINAL_STATES];

export async function listRecords(client: Queryable, t: Tables, query: RecordQuery): Promise<StoredRecord[]> {
  const { rows } = await client.query<UsageRecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM ${t.records}
     WHERE ($1::text[] IS NULL OR state = ANY($1::text[]))
       AND ($2::text IS NULL OR customer_key = $2)
       AND ($3::bigint IS NULL OR hour >= $3)
       AND ($4::bigint IS NULL OR hour < $4)
     ORDER BY hour, id
     LIMIT $5`,
    [
      query.states === undefined ? null : [...query.states],
      query.customerKey ?? null,
      query.hourFrom ?? null,
      query.hourTo ?? null,
      query.limit === undefined ? null : Math.max(0, Math.trunc(query.limit)),
    ],
  );
  return rows.map(toStoredRecord);
}

/** Run in one read-only snapshot, so that the three figures describe the same moment. */
export async function stats(client: Queryable, t: Tables): Promise<StoreStats> {
  const counts = await client.query<{ state: RecordState; count: string }>(
    `SELECT state, count(*) AS count FROM ${t.records} GROUP BY state`,
  );
  const byHour = await client.query<{ hour: string; records: string; quantity: string }>(
    `SELECT hour, count(*) AS records, sum(quantity) AS quantity FROM ${t.records}
     WHERE state IN ('open', 'pending', 'sending')
     GROUP BY hour ORDER BY hour`,
  );
  const late = await client.query<{ late: string }>(
    `SELECT coalesce(sum(quantity - frozen_quantity), 0) AS late FROM ${t.records} WHERE frozen_quantity IS NOT NULL`,
  );
  const lastSent = await client.query<{ last: string | null }>(`SELECT max(settled_at) AS last FROM ${t.records} WHERE state = 'sent'`);
  const countsByState = Object.fromEntries(ALL_STATES.map((state) => [state, 0])) as Record<RecordState, number>;
  for (const { state, count } of counts.rows) countsByState[state] = Number(count);
  const unsettledByHour: HourStats[] = byHour.rows.map((row) => ({
    hour: Number(row.hour),
    records: Number(row.records),
    quantity: Number(row.quantity),
  }));
  const last = lastSent.rows[0]?.last;
  return { unsettledByHour, countsByState, lateQuantity: Number(late.rows[0]?.late ?? 0), lastSentAt: last === null || last === undefined ? undefined : Number(last) };
}
