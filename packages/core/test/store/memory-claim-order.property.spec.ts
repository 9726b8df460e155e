import fc from 'fast-check';
import { MemoryStore } from '../../src/store/memory-store';
import { compareKeys } from '../../src/store/frozen-usage';
import type { StoredRecord } from '../../src/store/usage-store';
import { claimRequest, delta, hour, licenseIdentity } from '../../src/store/conformance/fixtures';
import { customerKey } from '../../src/model/customer';

/**
 * Invariant: whatever happened before (usage, claims by two owners, settlements, releases to a later time, redrives,
 * leases ending, a clock that also steps back), a claim returns exactly the records a full sort would: every
 * claimable record (pending and due, or sending with its lease ended) after freezing what is due, the forced
 * customers' first, then by hour and id, the first `limit` of them. The memory store takes them from its claim queue
 * instead of sorting; this compares it with the sort.
 */
type Step =
  | { kind: 'usage'; customer: number; hour: number }
  | { kind: 'claim'; owner: 'worker-a' | 'worker-b'; limit: number; forced: number[]; dueHour: number }
  | { kind: 'settle' | 'release' | 'redrive'; owner: 'worker-a' | 'worker-b'; pick: number[]; delayMs: number }
  | { kind: 'time'; ms: number };

const owner = fc.constantFrom<'worker-a' | 'worker-b'>('worker-a', 'worker-b');
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('usage' as const), customer: fc.integer({ min: 1, max: 6 }), hour: fc.integer({ min: 0, max: 4 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      owner,
      limit: fc.constantFrom(0, 1, 2, 3, 5),
      forced: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 2 }),
      dueHour: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('settle' as const, 'release' as const, 'redrive' as const),
      owner,
      pick: fc.array(fc.nat(40), { maxLength: 4 }),
      delayMs: fc.constantFrom(0, 1_000, 120_000),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.constantFrom(-30_000, 1_000, 30_000, 120_000) }) },
);

const LEASE_MS = 60_000;

function claimable(record: StoredRecord, now: number): boolean {
  return (
    (record.state === 'pending' && record.nextAttemptAt <= now) ||
    (record.state === 'sending' && record.leaseUntil !== undefined && record.leaseUntil <= now)
  );
}

/** What a claim must return, from the records as listed before it. */
function expectedClaim(records: readonly StoredRecord[], now: number, dueBefore: number, forced: ReadonlySet<string>, limit: number): string[] {
  const candidates = records
    .map((r) => (r.state === 'open' && (r.hour < dueBefore || forced.has(r.customerKey)) ? { ...r, state: 'pending' as const, nextAttemptAt: now } : r))
    .filter((r) => claimable(r, now));
  candidates.sort(
    (a, b) => Number(forced.has(b.customerKey)) - Number(forced.has(a.customerKey)) || a.hour - b.hour || compareKeys(a.id, b.id),
  );
  return candidates.slice(0, limit).map((r) => r.id);
}

describe('MemoryStore claim order', () => {
  it('does not return a record frozen by a claim whose clock was ahead to a claim whose clock is behind it', async () => {
    const store = new MemoryStore();
    await store.open();
    await store.addUsage([delta({ hour: hour(0) })]);
    await store.claim(claimRequest({ now: hour(10), dueBefore: hour(1), limit: 0 }));
    expect(await store.claim(claimRequest({ now: hour(10) - 30_000, dueBefore: hour(0), limit: 1 }))).toEqual([]);
    expect(await store.claim(claimRequest({ now: hour(10), dueBefore: hour(0), limit: 1 }))).toHaveLength(1);
  });

  it('claims exactly what sorting every claimable record would, in that order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const store = new MemoryStore();
        await store.open();
        let now = hour(10);
        const leased = { 'worker-a': [] as string[], 'worker-b': [] as string[] };
        for (const s of steps) {
          if (s.kind === 'usage') {
            await store.addUsage([delta({ customer: licenseIdentity(s.customer), hour: hour(s.hour) })]);
          } else if (s.kind === 'time') {
            now += s.ms;
          } else if (s.kind === 'claim') {
            const forced = s.forced.map((n) => customerKey(licenseIdentity(n)));
            const dueBefore = hour(s.dueHour);
            const expected = expectedClaim(await store.listRecords(), now, dueBefore, new Set(forced), s.limit);
            const claimed = await store.claim(
              claimRequest({ now, dueBefore, owner: s.owner, limit: s.limit, leaseMs: LEASE_MS, ...(forced.length > 0 ? { forceCustomerKeys: forced } : {}) }),
            );
            expect(claimed.map((r) => r.id)).toEqual(expected);
            leased[s.owner].push(...claimed.map((r) => r.id));
          } else {
            const ids = leased[s.owner];
            const picked = [...new Set(s.pick.map((i) => ids[i % Math.max(1, ids.length)]).filter((id): id is string => id !== undefined))];
            if (s.kind === 'settle') await store.settle(picked.map((id) => ({ id, state: 'sent' as const })), s.owner, now);
            else if (s.kind === 'release') await store.release(picked.map((id) => ({ id, nextAttemptAt: now + s.delayMs })), s.owner);
            else await store.redrive(picked, now);
          }
        }
        // Nothing is lost from the queue: with the clock far ahead, one claim takes every claimable record.
        const later = now + 10 * LEASE_MS;
        const expected = expectedClaim(await store.listRecords(), later, hour(6), new Set(), 1_000);
        expect((await store.claim(claimRequest({ now: later, dueBefore: hour(6), limit: 1_000 }))).map((r) => r.id)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
