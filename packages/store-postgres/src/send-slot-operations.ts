import { extendSendSlotRing, nextSendSlot } from '@meterkit/core';
import type { PoolClient } from 'pg';
import type { Tables } from './tables';

/** The scope's row, locked until the transaction ends (created empty first): concurrent callers take turns on it. */
async function lockedRing(client: PoolClient, t: Tables, scope: string): Promise<number[]> {
  await client.query(`INSERT INTO ${t.sendSlots} (scope, times) VALUES ($1, '[]') ON CONFLICT (scope) DO NOTHING`, [scope]);
  const { rows } = await client.query<{ times: string }>(`SELECT times FROM ${t.sendSlots} WHERE scope = $1 FOR UPDATE`, [scope]);
  return JSON.parse(rows[0]!.times) as number[];
}

async function storeRing(client: PoolClient, t: Tables, scope: string, ring: readonly number[]): Promise<void> {
  await client.query(`UPDATE ${t.sendSlots} SET times = $2 WHERE scope = $1`, [scope, JSON.stringify(ring)]);
}

/** Within the caller's transaction: the ring of the last grant times, read under a row lock, decided, written. */
export async function takeSendSlot(client: PoolClient, t: Tables, scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
  const decision = nextSendSlot(await lockedRing(client, t, scope), now, capacity, windowMs);
  if (!decision.granted) return decision.waitMs;
  await storeRing(client, t, scope, decision.ring);
  return 0;
}

export async function extendSendSlot(client: PoolClient, t: Tables, scope: string, grantedAt: number, until: number): Promise<void> {
  const ring = extendSendSlotRing(await lockedRing(client, t, scope), grantedAt, until);
  if (ring !== undefined) await storeRing(client, t, scope, ring);
}
