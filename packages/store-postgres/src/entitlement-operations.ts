import { allowanceAdditions, allowanceCounterId, meterUses } from '@meterkit/core';
import type { AddUsageAboveIncludedResult, AllowanceCounter, EntitlementSet, IncludedUse, UsageDelta } from '@meterkit/core';
import type { PoolClient } from 'pg';
import type { Tables } from './tables';
import type { Queryable } from './transaction';
import { applyDeltas, recordBatch } from './usage-operations';

/** One statement: the fetchedAt comparison and the write are atomic. */
export async function putEntitlements(client: Queryable, t: Tables, set: EntitlementSet): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO ${t.entitlements} AS stored (customer_key, product_code, fetched_at, entitlement_set) VALUES ($1, $2, $3, $4)
     ON CONFLICT (customer_key) DO UPDATE
     SET product_code = excluded.product_code, fetched_at = excluded.fetched_at, entitlement_set = excluded.entitlement_set
     WHERE stored.fetched_at < excluded.fetched_at`,
    [set.customerKey, set.productCode, set.fetchedAt, JSON.stringify(set)],
  );
  return rowCount === 1;
}

export async function getEntitlements(client: Queryable, t: Tables, customerKey: string): Promise<EntitlementSet | undefined> {
  const { rows } = await client.query<{ entitlement_set: string }>(
    `SELECT entitlement_set FROM ${t.entitlements} WHERE customer_key = $1`,
    [customerKey],
  );
  return rows[0] === undefined ? undefined : (JSON.parse(rows[0].entitlement_set) as EntitlementSet);
}

export async function listEntitlements(client: Queryable, t: Tables): Promise<EntitlementSet[]> {
  const { rows } = await client.query<{ entitlement_set: string }>(`SELECT entitlement_set FROM ${t.entitlements} ORDER BY customer_key`);
  return rows.map((row) => JSON.parse(row.entitlement_set) as EntitlementSet);
}

/**
 * Within the caller's transaction: the batch id, then the counters (one upsert, in key order, so that concurrent
 * writers lock them in the same order; each row stays locked until commit, so the next writer of a counter
 * reads this one's total), then the plain deltas and the metered parts in one write to the records.
 */
export async function addUsageAboveIncluded(
  client: PoolClient,
  t: Tables,
  deltas: readonly UsageDelta[],
  uses: readonly IncludedUse[],
  batchId: string,
): Promise<AddUsageAboveIncludedResult> {
  if (!(await recordBatch(client, t, batchId))) return { late: [], applied: false, metered: [] };
  const usedBefore = await addToCounters(client, t, uses);
  const { metered, deltas: meteredDeltas } = meterUses(uses, usedBefore);
  const late = await applyDeltas(client, t, [...deltas, ...meteredDeltas]);
  return { late, applied: true, metered };
}

/** Adds each counter's share of the uses; answers each counter's value before. */
async function addToCounters(client: PoolClient, t: Tables, uses: readonly IncludedUse[]): Promise<Map<string, number>> {
  const counters = allowanceAdditions(uses);
  if (counters.length === 0) return new Map();
  const { rows } = await client.query<{ customer_key: string; allowance_dimension: string; period_start: string; used: string }>(
    `INSERT INTO ${t.allowances} AS c (customer_key, allowance_dimension, period_start, used)
     SELECT customer_key, allowance_dimension, period_start, used
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS input (customer_key, allowance_dimension, period_start, used)
     ORDER BY customer_key COLLATE "C", allowance_dimension COLLATE "C", period_start
     ON CONFLICT (customer_key, allowance_dimension, period_start) DO UPDATE SET used = c.used + excluded.used
     RETURNING c.customer_key, c.allowance_dimension, c.period_start, c.used`,
    [
      counters.map((c) => c.customerKey),
      counters.map((c) => c.allowanceDimension),
      counters.map((c) => c.periodStart),
      counters.map((c) => c.quantity),
    ],
  );
  const added = new Map(counters.map((c) => [c.id, c.quantity]));
  const before = new Map<string, number>();
  for (const row of rows) {
    const id = allowanceCounterId(row.customer_key, row.allowance_dimension, Number(row.period_start));
    before.set(id, Number(row.used) - (added.get(id) ?? 0));
  }
  return before;
}

export async function listAllowanceCounters(client: Queryable, t: Tables, customerKey: string): Promise<AllowanceCounter[]> {
  const { rows } = await client.query<{ allowance_dimension: string; period_start: string; used: string }>(
    `SELECT allowance_dimension, period_start, used FROM ${t.allowances}
     WHERE customer_key = $1 ORDER BY period_start DESC, allowance_dimension`,
    [customerKey],
  );
  return rows.map((row) => ({
    customerKey,
    allowanceDimension: row.allowance_dimension,
    periodStart: Number(row.period_start),
    used: Number(row.used),
  }));
}
