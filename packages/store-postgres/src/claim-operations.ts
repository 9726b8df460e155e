import { frozenUsageFromAllocations } from '@meterkit/core';
import type { AllocationRow, ClaimRequest, Release, Settlement, StoredRecord } from '@meterkit/core';
import type { PoolClient } from 'pg';
import type { Queryable } from './transaction';
import { RECORD_COLUMNS, toAllocationRow, toStoredRecord } from './rows';
import type { AllocationDbRow, UsageRecordRow } from './rows';
import type { Tables } from './tables';

/**
 * Freezes due open records, then leases claimable ones, in one transaction.
 *
 * Freezing locks the due records first (waiting for writers still adding to them) and only then reads their
 * allocations in a new statement, which sees every increment committed before the lock was granted: nothing
 * counted as on time is left out of the snapshot. Leasing uses SKIP LOCKED, so that instances claiming at
 * the same moment take disjoint records instead of waiting for each other.
 */
export async function claim(client: PoolClient, t: Tables, request: ClaimRequest): Promise<StoredRecord[]> {
  const forced = [...(request.forceCustomerKeys ?? [])];
  await walkIndexesInOrder(client, true);
  await freezeDue(client, t, request.dueBefore, forced, request.now);
  const limit = Math.max(0, Math.trunc(request.limit));
  if (limit === 0) return [];
  const rows: UsageRecordRow[] = [];
  if (forced.length > 0) {
    // A forced customer's records are found through the customer index and sorted: few, however many others wait.
    await walkIndexesInOrder(client, false);
    rows.push(...(await lease(client, t, request, forced, 'forced', limit)));
    await walkIndexesInOrder(client, true);
  }
  if (rows.length < limit) rows.push(...(await lease(client, t, request, forced, 'others', limit - rows.length)));
  const forcedKeys = new Set(forced);
  return rows
    .map(toStoredRecord)
    .sort(
      (a, b) =>
        Number(forcedKeys.has(b.customerKey)) - Number(forcedKeys.has(a.customerKey)) ||
        a.hour - b.hour ||
        compare(a.id, b.id),
    );
}

/**
 * Statistics lag behind a burst of writes or a claim that froze or leased many records: believing few rows match,
 * the planner would fetch every candidate and sort them, or scan the whole table for one chunk's allocations, on
 * every claim. Within the claim's transaction (SET LOCAL), plans that sort, gather a bitmap or scan a table are
 * ruled out, so that it walks the partial indexes in order, stops at the LIMIT and looks rows up by key, whatever
 * the statistics say. The penalty this puts on the one sort left (of the short merged list) must
 * not make the statement look worth compiling: JIT is off for the claim.
 */
async function walkIndexesInOrder(client: PoolClient, only: boolean): Promise<void> {
  const value = only ? 'off' : 'on';
  await client.query(
    `SET LOCAL enable_sort = ${value}; SET LOCAL enable_incremental_sort = ${value}; SET LOCAL enable_bitmapscan = ${value}; ` +
      `SET LOCAL enable_seqscan = ${value}; SET LOCAL jit = off`,
  );
}

/**
 * Leases up to `limit` claimable records, oldest hour then id first, of the forced customers or of everyone else.
 * Pending records come from walking the pending index in order, stopping at the limit however many wait; records
 * whose lease expired (few: at most what senders that died had leased) from the lease index, read up to `now`.
 * Only these short lists are merged and sorted.
 */
async function lease(
  client: PoolClient,
  t: Tables,
  request: ClaimRequest,
  forced: readonly string[],
  which: 'forced' | 'others',
  limit: number,
): Promise<UsageRecordRow[]> {
  const customers = which === 'forced' ? 'customer_key = ANY($2::text[])' : 'customer_key <> ALL($2::text[])';
  const { rows } = await client.query<UsageRecordRow>(
    `WITH pending AS (
       SELECT id, hour FROM ${t.records}
       WHERE state = 'pending' AND next_attempt_at <= $1 AND ${customers}
       ORDER BY hour, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     ), expired AS (
       SELECT id, hour FROM ${t.records}
       WHERE state = 'sending' AND lease_until <= $1 AND ${customers}
       FOR UPDATE SKIP LOCKED
     ), claimable AS (
       SELECT id FROM (SELECT id, hour FROM pending UNION ALL SELECT id, hour FROM expired) AS candidates
       ORDER BY hour, id
       LIMIT $3
     )
     UPDATE ${t.records} AS r SET state = 'sending', lease_owner = $4, lease_until = $5
     FROM claimable WHERE r.id = claimable.id
     RETURNING ${RECORD_COLUMNS.split(',').map((column) => `r.${column.trim()}`).join(', ')}`,
    [request.now, forced, limit, request.owner, request.now + request.leaseMs],
  );
  return rows;
}

/**
 * Due open records are frozen in id order (the order locks are taken in) within the claim's transaction, one window
 * of at most FREEZE_CHUNK open records at a time: the snapshots of one window are computed between two round trips,
 * so no single step holds the event loop for long however many records are due.
 */
const FREEZE_CHUNK = 1000;

async function freezeDue(client: PoolClient, t: Tables, dueBefore: number, forced: string[], now: number): Promise<void> {
  let after = '';
  for (;;) {
    const window = await nextWindow(client, t, after);
    if (window === undefined) return;
    await freezeWindow(client, t, dueBefore, forced, now, after, window.upto);
    if (!window.full) return;
    after = window.upto;
  }
}

interface FreezeWindow {
  /** The last open id of the window: it spans the ids after the previous window's and up to this one. */
  readonly upto: string;
  /** Whether the window holds FREEZE_CHUNK open records, so that more may follow it. */
  readonly full: boolean;
}

/**
 * The next FREEZE_CHUNK open records after `after`, read from the open records' index from there and bounded by
 * the LIMIT whether they are due or not: each window reads its own index entries, never those of the windows before
 * or after it. Undefined when no open record follows.
 */
async function nextWindow(client: PoolClient, t: Tables, after: string): Promise<FreezeWindow | undefined> {
  const { rows } = await client.query<{ upto: string | null; count: string }>(
    `SELECT max(id) AS upto, count(*) AS count FROM (
       SELECT id FROM ${t.records} WHERE state = 'open' AND id > $1 ORDER BY id LIMIT ${FREEZE_CHUNK}
     ) AS open_window`,
    [after],
  );
  const upto = rows[0]?.upto ?? null;
  return upto === null ? undefined : { upto, full: Number(rows[0]?.count) === FREEZE_CHUNK };
}

/**
 * Freezes the due open records with ids in (`after`, `upto`]. Every statement bounds the id to the window, so
 * that the planner reads the range of the open records' index (or the rows by key) whatever the statistics say,
 * never every open record: the freeze reads each open record a bounded number of times, however many there are.
 */
async function freezeWindow(
  client: PoolClient,
  t: Tables,
  dueBefore: number,
  forced: string[],
  now: number,
  after: string,
  upto: string,
): Promise<void> {
  const due = await client.query<{ id: string }>(
    `SELECT id FROM ${t.records}
     WHERE state = 'open' AND id > $3 AND id <= $4 AND (hour < $1 OR customer_key = ANY($2::text[]))
     ORDER BY id
     FOR UPDATE`,
    [dueBefore, forced, after, upto],
  );
  if (due.rows.length === 0) return;
  const ids = due.rows.map((row) => row.id);
  const allocations = await client.query<AllocationDbRow>(
    `SELECT record_id, tags_key, tags, quantity FROM ${t.allocations} WHERE record_id = ANY($1::text[])`,
    [ids],
  );
  const byRecord = new Map<string, AllocationRow[]>(ids.map((id) => [id, []]));
  for (const row of allocations.rows) byRecord.get(row.record_id)?.push(toAllocationRow(row));
  const snapshots = ids.map((id) => frozenUsageFromAllocations(byRecord.get(id) ?? []));
  await client.query(
    `UPDATE ${t.records} AS r
     SET state = 'pending', frozen = input.frozen, frozen_quantity = input.quantity,
         next_attempt_at = coalesce(r.next_attempt_at, $4)
     FROM unnest($1::text[], $2::text[], $3::bigint[]) AS input (id, frozen, quantity)
     WHERE r.id = input.id AND r.state = 'open' AND r.id > $5 AND r.id <= $6`,
    [ids, snapshots.map((snapshot) => JSON.stringify(snapshot)), snapshots.map((snapshot) => snapshot.quantity), now, after, upto],
  );
}

/** Counts an attempt on the records still leased by `owner` and marks them possibly landed; returns their ids in the order given. */
export async function journal(client: Queryable, t: Tables, ids: readonly string[], owner: string, now: number): Promise<string[]> {
  const unique = [...new Set(ids)].sort(compare);
  if (unique.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `UPDATE ${t.records} SET attempts = attempts + 1, last_attempt_at = $3, may_have_landed = true
     WHERE id = ANY($1::text[]) AND state = 'sending' AND lease_owner = $2 AND lease_until > $3
     RETURNING id`,
    [unique, owner, now],
  );
  const journaled = new Set(rows.map((row) => row.id));
  return [...new Set(ids)].filter((id) => journaled.has(id));
}

/** Clears the possibly-landed mark of the records still leased by `owner`. */
export async function clearMayHaveLanded(client: Queryable, t: Tables, ids: readonly string[], owner: string): Promise<void> {
  const unique = [...new Set(ids)].sort(compare);
  if (unique.length === 0) return;
  await client.query(
    `UPDATE ${t.records} SET may_have_landed = false
     WHERE id = ANY($1::text[]) AND state = 'sending' AND lease_owner = $2`,
    [unique, owner],
  );
}

/** Moves records leased by `owner` to their terminal states; the first settlement of an id wins, like a sequence would. */
export async function settle(client: Queryable, t: Tables, settlements: readonly Settlement[], owner: string, now: number): Promise<void> {
  const unique = firstById(settlements);
  if (unique.length === 0) return;
  await client.query(
    `UPDATE ${t.records} AS r
     SET state = input.state, settled_at = $5, metering_record_id = input.metering_record_id, reason = input.reason,
         lease_owner = NULL, lease_until = NULL
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS input (id, state, metering_record_id, reason)
     WHERE r.id = input.id AND r.state = 'sending' AND r.lease_owner = $6`,
    [
      unique.map((s) => s.id),
      unique.map((s) => s.state),
      unique.map((s) => s.meteringRecordId ?? null),
      unique.map((s) => s.reason ?? null),
      now,
      owner,
    ],
  );
}

/** Hands records leased by `owner` back as pending, due again at their nextAttemptAt. */
export async function release(client: Queryable, t: Tables, releases: readonly Release[], owner: string): Promise<void> {
  const unique = firstById(releases);
  if (unique.length === 0) return;
  await client.query(
    `UPDATE ${t.records} AS r
     SET state = 'pending', next_attempt_at = input.next_attempt_at, reason = input.reason,
         lease_owner = NULL, lease_until = NULL
     FROM unnest($1::text[], $2::bigint[], $3::text[]) AS input (id, next_attempt_at, reason)
     WHERE r.id = input.id AND r.state = 'sending' AND r.lease_owner = $4`,
    [unique.map((r) => r.id), unique.map((r) => r.nextAttemptAt), unique.map((r) => r.reason ?? null), owner],
  );
}

/** Puts rejected, not-subscribed and waiting pending records back in line, due now; returns the ids moved. */
export async function redrive(client: Queryable, t: Tables, ids: readonly string[], now: number): Promise<string[]> {
  const unique = [...new Set(ids)].sort(compare);
  if (unique.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(
    `UPDATE ${t.records}
     SET state = 'pending', next_attempt_at = $2, reason = NULL, settled_at = NULL, metering_record_id = NULL
     WHERE id = ANY($1::text[]) AND state IN ('rejected', 'not-subscribed', 'pending')
     RETURNING id`,
    [unique, now],
  );
  const moved = new Set(rows.map((row) => row.id));
  return [...new Set(ids)].filter((id) => moved.has(id));
}

/** One entry per id, the first given, in id order so that concurrent updates lock rows in the same order. */
function firstById<T extends { readonly id: string }>(entries: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const entry of entries) if (!byId.has(entry.id)) byId.set(entry.id, entry);
  return [...byId.values()].sort((a, b) => compare(a.id, b.id));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
