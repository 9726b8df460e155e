import { allocationRowsOf, BATCH_ID_RETENTION_MS, recordId, sameFrozenUsage } from '@meterkit/core';
import type { AddUsageResult, FinalTotal, SetTotalResult, UsageDelta } from '@meterkit/core';
import type { PoolClient } from 'pg';
import { encodeTagsKey, RECORD_COLUMNS, toStoredRecord } from './rows';
import type { UsageRecordRow } from './rows';
import type { Tables } from './tables';

interface RecordIncrement {
  id: string;
  delta: UsageDelta;
  quantity: number;
}

interface AllocationIncrement {
  recordId: string;
  tagsKey: string;
  tags: string | null;
  quantity: number;
}

/**
 * Adds all deltas in two statements: one upsert of the records, then one of their allocations. Deltas are
 * summed per row first (one statement cannot update a row twice) and rows are written in id order, so that
 * concurrent writers lock rows in the same order. The record row lock is taken first and held until commit:
 * a claim freezing the record waits for it, and then reads these allocations.
 */
export async function addUsage(client: PoolClient, t: Tables, deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
  if (batchId !== undefined && !(await recordBatch(client, t, batchId))) return { late: [], applied: false };
  return { late: await applyDeltas(client, t, deltas) };
}

/** Notes a batch id as applied within the caller's transaction; false when it was applied before. */
export async function recordBatch(client: PoolClient, t: Tables, batchId: string): Promise<boolean> {
  const now = Date.now();
  const { rowCount } = await client.query(`INSERT INTO ${t.batches} (id, applied_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [batchId, now]);
  if (rowCount === 0) return false;
  await client.query(`DELETE FROM ${t.batches} WHERE applied_at < $1`, [now - BATCH_ID_RETENTION_MS]);
  return true;
}

/** Adds the deltas to their records within the caller's transaction; answers the deltas that reached a frozen record. */
export async function applyDeltas(client: PoolClient, t: Tables, deltas: readonly UsageDelta[]): Promise<UsageDelta[]> {
  if (deltas.length === 0) return [];
  const records = new Map<string, RecordIncrement>();
  const allocations = new Map<string, AllocationIncrement>();
  const idOfDelta = deltas.map((delta) => {
    const id = recordId(delta.customerKey, delta.dimension, delta.hour);
    const record = records.get(id);
    if (record === undefined) records.set(id, { id, delta, quantity: delta.quantity });
    else record.quantity += delta.quantity;
    const allocationKey = `${id}\u0000\u0000${delta.tagsKey}`;
    const allocation = allocations.get(allocationKey);
    if (allocation === undefined) {
      allocations.set(allocationKey, {
        recordId: id,
        tagsKey: delta.tagsKey,
        tags: delta.tags === undefined ? null : JSON.stringify(delta.tags),
        quantity: delta.quantity,
      });
    } else allocation.quantity += delta.quantity;
    return id;
  });

  const sortedRecords = [...records.values()].sort((a, b) => compare(a.id, b.id));
  const { rows } = await client.query<{ id: string; state: string }>(
    `INSERT INTO ${t.records} AS r (id, customer_key, product_code, customer, dimension, hour, state, quantity, source)
     SELECT id, customer_key, product_code, customer, dimension, hour, 'open', quantity, 'metered'
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
       AS input (id, customer_key, product_code, customer, dimension, hour, quantity)
     ORDER BY id COLLATE "C"
     ON CONFLICT (id) DO UPDATE SET quantity = r.quantity + excluded.quantity
     RETURNING r.id, r.state`,
    [
      sortedRecords.map((r) => r.id),
      sortedRecords.map((r) => r.delta.customerKey),
      sortedRecords.map((r) => r.delta.productCode),
      sortedRecords.map((r) => JSON.stringify(r.delta.customer)),
      sortedRecords.map((r) => r.delta.dimension),
      sortedRecords.map((r) => r.delta.hour),
      sortedRecords.map((r) => r.quantity),
    ],
  );

  const sortedAllocations = [...allocations.values()].sort(
    (a, b) => compare(a.recordId, b.recordId) || compare(a.tagsKey, b.tagsKey),
  );
  await client.query(
    `INSERT INTO ${t.allocations} AS a (record_id, tags_key, tags, quantity)
     SELECT record_id, decode(tags_key, 'hex'), tags, quantity
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS input (record_id, tags_key, tags, quantity)
     ORDER BY record_id COLLATE "C", tags_key COLLATE "C"
     ON CONFLICT (record_id, tags_key) DO UPDATE SET quantity = a.quantity + excluded.quantity`,
    [
      sortedAllocations.map((a) => a.recordId),
      sortedAllocations.map((a) => encodeTagsKey(a.tagsKey)),
      sortedAllocations.map((a) => a.tags),
      sortedAllocations.map((a) => a.quantity),
    ],
  );

  const frozen = new Set(rows.filter((row) => row.state !== 'open').map((row) => row.id));
  return deltas.filter((_, index) => frozen.has(idOfDelta[index] as string));
}

/** Inserts a finalized total as a frozen, pending record, or compares it with the record already there. */
export async function setTotal(client: PoolClient, t: Tables, total: FinalTotal, now: number): Promise<SetTotalResult> {
  const id = recordId(total.customerKey, total.dimension, total.hour);
  const inserted = await client.query(
    `INSERT INTO ${t.records}
       (id, customer_key, product_code, customer, dimension, hour, state, quantity, frozen, frozen_quantity, source, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $7, 'total', $9)
     ON CONFLICT (id) DO NOTHING`,
    [
      id,
      total.customerKey,
      total.productCode,
      JSON.stringify(total.customer),
      total.dimension,
      total.hour,
      total.usage.quantity,
      JSON.stringify(total.usage),
      now,
    ],
  );
  if (inserted.rowCount === 0) {
    const { rows } = await client.query<UsageRecordRow>(`SELECT ${RECORD_COLUMNS} FROM ${t.records} WHERE id = $1`, [id]);
    const existing = toStoredRecord(rows[0] as UsageRecordRow);
    const same = existing.source === 'total' && existing.frozen !== undefined && sameFrozenUsage(existing.frozen, total.usage);
    return same ? { outcome: 'unchanged' } : { outcome: 'conflict', existing };
  }
  const allocations = allocationRowsOf(total.usage);
  await client.query(
    `INSERT INTO ${t.allocations} (record_id, tags_key, tags, quantity)
     SELECT $1, decode(tags_key, 'hex'), tags, quantity FROM unnest($2::text[], $3::text[], $4::bigint[]) AS input (tags_key, tags, quantity)`,
    [
      id,
      allocations.map((row) => encodeTagsKey(row.tagsKey)),
      allocations.map((row) => (row.tags === undefined ? null : JSON.stringify(row.tags))),
      allocations.map((row) => row.quantity),
    ],
  );
  return { outcome: 'created' };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
