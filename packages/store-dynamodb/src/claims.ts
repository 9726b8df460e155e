import { compareKeysOf } from './order';
import type { ClaimRequest, Release, Settlement, StoredRecord } from '@meterkit/core';
import { inParallel } from './parallel';
import { n, s, snapshotOfItem, toStoredRecord } from './record-item';
import type { Item } from './record-item';
import { PAGE_ITEMS, type Table } from './table';
import { padNumber, RECORD_SK, recordPk, TTL_ATTRIBUTE, UNSETTLED_INDEX } from './table-layout';

export interface ClaimSettings {
  readonly table: Table;
  readonly conflictRetries: number;
  readonly concurrency: number;
  readonly settledTtlSeconds: number | undefined;
}

const STATE = { '#state': 'state' };

/** Records of one unsettled state from the index, oldest hour first; `before` bounds the hour (exclusive). */
async function unsettled(t: Table, state: 'open' | 'pending' | 'sending', before?: number): Promise<Item[]> {
  return t.query({
    IndexName: UNSETTLED_INDEX,
    KeyConditionExpression: before === undefined ? 'us = :state' : 'us = :state AND uk < :before',
    ExpressionAttributeValues: { ':state': s(state), ...(before === undefined ? {} : { ':before': s(padNumber(before)) }) },
  });
}

/** The first `wanted` pending records due by `now`, in (hour, id) order, read page by page. */
async function duePending(t: Table, now: number, wanted: number): Promise<Item[]> {
  const found: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await t.queryPage(
      {
        IndexName: UNSETTLED_INDEX,
        KeyConditionExpression: 'us = :state',
        ExpressionAttributeValues: { ':state': s('pending') },
        Limit: Math.min(wanted, PAGE_ITEMS),
      },
      start,
    );
    for (const item of page.items) if (Number(item.nextAttemptAt?.N ?? 0) <= now) found.push(item);
    start = page.next;
  } while (start !== undefined && found.length < wanted);
  return found.slice(0, wanted);
}

/**
 * Freezes due open records, then leases claimable ones. Candidates come from the unsettled index (eventually
 * consistent); every change is a conditional write on the record itself, so that two claimers never both win.
 */
export async function claim(o: ClaimSettings, request: ClaimRequest): Promise<StoredRecord[]> {
  const forced = new Set(request.forceCustomerKeys ?? []);
  const open = forced.size === 0 ? await unsettled(o.table, 'open', request.dueBefore) : await unsettled(o.table, 'open');
  const due = open.filter((item) => Number(item.hour?.N) < request.dueBefore || forced.has(item.customerKey?.S ?? ''));
  await inParallel(due, o.concurrency, (item) => freeze(o, item.id?.S as string, request.now));

  const limit = Math.max(0, Math.trunc(request.limit));
  if (limit === 0) return [];
  // Without forced customers, pending records are read in claim order (the index sorts by hour, then id) only
  // until enough are found, instead of every pending record on each claim; forced customers' records can be
  // anywhere in that order, so a claim that forces reads them all.
  const wanted = limit + o.concurrency;
  const [pending, sending] = await Promise.all([
    forced.size === 0 ? duePending(o.table, request.now, wanted) : unsettled(o.table, 'pending'),
    unsettled(o.table, 'sending'),
  ]);
  const candidates = [
    ...pending.filter((item) => Number(item.nextAttemptAt?.N ?? 0) <= request.now),
    ...sending.filter((item) => Number(item.leaseUntil?.N ?? 0) <= request.now),
  ]
    .map(toStoredRecord)
    .sort(claimOrder(forced))
    .slice(0, forced.size === 0 ? wanted : undefined);

  const leased: StoredRecord[] = [];
  for (let start = 0; start < candidates.length && leased.length < limit; ) {
    const wave = candidates.slice(start, start + Math.min(o.concurrency, limit - leased.length));
    start += wave.length;
    const results = await inParallel(wave, o.concurrency, (candidate) => lease(o.table, candidate.id, request));
    for (const record of results) if (record !== undefined) leased.push(record);
  }
  return leased.sort(claimOrder(forced));
}

function claimOrder(forced: ReadonlySet<string>): (a: StoredRecord, b: StoredRecord) => number {
  return (a, b) =>
    Number(forced.has(b.customerKey)) - Number(forced.has(a.customerKey)) || a.hour - b.hour || compareKeysOf(a.id, b.id);
}

/** Freezes one open record with the allocations of the version it read; retries when a write got in between. */
async function freeze(o: ClaimSettings, id: string, now: number): Promise<void> {
  for (let attempt = 0; attempt < o.conflictRetries; attempt++) {
    const item = await o.table.get(recordPk(id), RECORD_SK);
    if (item === undefined || item.state?.S !== 'open') return;
    const frozen = snapshotOfItem(item);
    const done = await o.table.update({
      Key: o.table.key(recordPk(id), RECORD_SK),
      UpdateExpression:
        'SET #state = :pending, us = :pending, frozen = :frozen, frozenQuantity = :fq, nextAttemptAt = :now',
      ConditionExpression: '#state = :open AND version = :version',
      ExpressionAttributeNames: STATE,
      ExpressionAttributeValues: {
        ':pending': s('pending'),
        ':open': s('open'),
        ':frozen': s(JSON.stringify(frozen)),
        ':fq': n(frozen.quantity),
        ':now': n(now),
        ':version': item.version ?? n(0),
      },
      ReturnValues: 'NONE',
    });
    if (done !== undefined) return;
  }
  throw new Error(`a record kept changing while it was frozen, ${o.conflictRetries} attempts`);
}

async function lease(t: Table, id: string, request: ClaimRequest): Promise<StoredRecord | undefined> {
  const item = await t.update({
    Key: t.key(recordPk(id), RECORD_SK),
    UpdateExpression: 'SET #state = :sending, us = :sending, leaseOwner = :owner, leaseUntil = :until',
    ConditionExpression: '(#state = :pending AND nextAttemptAt <= :now) OR (#state = :sending AND leaseUntil <= :now)',
    ExpressionAttributeNames: STATE,
    ExpressionAttributeValues: {
      ':sending': s('sending'),
      ':pending': s('pending'),
      ':owner': s(request.owner),
      ':until': n(request.now + request.leaseMs),
      ':now': n(request.now),
    },
  });
  return item === undefined ? undefined : toStoredRecord(item);
}

const LEASED_BY = '#state = :sending AND leaseOwner = :owner';

/** Counts an attempt on the records still leased by `owner` and marks them possibly landed; returns their ids in the order given. */
export async function journal(o: ClaimSettings, ids: readonly string[], owner: string, now: number): Promise<string[]> {
  const unique = [...new Set(ids)];
  const done = await inParallel(unique, o.concurrency, async (id) =>
    (await o.table.update({
      Key: o.table.key(recordPk(id), RECORD_SK),
      UpdateExpression: 'SET lastAttemptAt = :now, mayHaveLanded = :true ADD attempts :one',
      // A lease that ran out may be another instance's by now: no call is made under it.
      ConditionExpression: `${LEASED_BY} AND leaseUntil > :now`,
      ExpressionAttributeNames: STATE,
      ExpressionAttributeValues: { ':sending': s('sending'), ':owner': s(owner), ':now': n(now), ':one': n(1), ':true': { BOOL: true } },
      ReturnValues: 'NONE',
    })) !== undefined,
  );
  return unique.filter((_, index) => done[index]);
}

/** Clears the possibly-landed mark of the records still leased by `owner`. */
export async function clearMayHaveLanded(o: ClaimSettings, ids: readonly string[], owner: string): Promise<void> {
  await inParallel([...new Set(ids)], o.concurrency, async (id) => {
    await o.table.update({
      Key: o.table.key(recordPk(id), RECORD_SK),
      UpdateExpression: 'SET mayHaveLanded = :false',
      ConditionExpression: LEASED_BY,
      ExpressionAttributeNames: STATE,
      ExpressionAttributeValues: { ':sending': s('sending'), ':owner': s(owner), ':false': { BOOL: false } },
      ReturnValues: 'NONE',
    });
  });
}

/** Moves records leased by `owner` to their terminal state; they leave the unsettled index. */
export async function settle(o: ClaimSettings, settlements: readonly Settlement[], owner: string, now: number): Promise<void> {
  await inParallel(firstById(settlements), o.concurrency, async (settlement) => {
    const values: Item = { ':sending': s('sending'), ':owner': s(owner), ':state': s(settlement.state), ':now': n(now) };
    const sets = ['#state = :state', 'settledAt = :now'];
    const removes = ['us', 'uk', 'leaseOwner', 'leaseUntil'];
    optional('meteringRecordId', settlement.meteringRecordId);
    optional('reason', settlement.reason);
    if (o.settledTtlSeconds !== undefined) {
      sets.push(`${TTL_ATTRIBUTE} = :ttl`);
      values[':ttl'] = n(Math.floor(now / 1000) + o.settledTtlSeconds);
    }
    await o.table.update({
      Key: o.table.key(recordPk(settlement.id), RECORD_SK),
      UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
      ConditionExpression: LEASED_BY,
      ExpressionAttributeNames: STATE,
      ExpressionAttributeValues: values,
      ReturnValues: 'NONE',
    });
    function optional(name: string, value: string | undefined): void {
      if (value === undefined) removes.push(name);
      else {
        sets.push(`${name} = :${name}`);
        values[`:${name}`] = s(value);
      }
    }
  });
}

/** Hands records leased by `owner` back as pending, due again at their nextAttemptAt. */
export async function release(o: ClaimSettings, releases: readonly Release[], owner: string): Promise<void> {
  await inParallel(firstById(releases), o.concurrency, async (entry) => {
    await o.table.update({
      Key: o.table.key(recordPk(entry.id), RECORD_SK),
      UpdateExpression: `SET #state = :pending, us = :pending, nextAttemptAt = :next${entry.reason === undefined ? '' : ', reason = :reason'} REMOVE leaseOwner, leaseUntil${entry.reason === undefined ? ', reason' : ''}`,
      ConditionExpression: LEASED_BY,
      ExpressionAttributeNames: STATE,
      ExpressionAttributeValues: {
        ':sending': s('sending'),
        ':owner': s(owner),
        ':pending': s('pending'),
        ':next': n(entry.nextAttemptAt),
        ...(entry.reason === undefined ? {} : { ':reason': s(entry.reason) }),
      },
      ReturnValues: 'NONE',
    });
  });
}

function firstById<T extends { readonly id: string }>(entries: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const entry of entries) if (!byId.has(entry.id)) byId.set(entry.id, entry);
  return [...byId.values()];
}
