import { TERMINAL_STATES } from '../usage-store';
import type { UsageStore } from '../usage-store';
import { customerKey } from '../../model/customer';
import { getRecord, ids } from './context';
import { claimRequest, delta, hour, HOUR, idOf, licenseIdentity } from './fixtures';

const LEASE = 60_000;

export function describeClaim(store: () => UsageStore): void {
  describe('claim', () => {
    it('leases what it returns and returns every field as stored', async () => {
      await store().addUsage([delta({ quantity: 2, tags: { team: 'a' } })]);
      const now = hour(10) + 17;
      const [claimed] = await store().claim(claimRequest({ now, owner: 'worker-1', leaseMs: LEASE }));
      expect(claimed).toMatchObject({ state: 'sending', leaseOwner: 'worker-1', leaseUntil: now + LEASE, attempts: 0, mayHaveLanded: false });
      await expect(getRecord(store(), idOf())).resolves.toEqual(claimed);
    });

    it('returns oldest hours first, then by id', async () => {
      const customers = [licenseIdentity(3), licenseIdentity(1), licenseIdentity(2)];
      await store().addUsage([
        ...customers.map((customer) => delta({ customer, hour: hour(5) })),
        ...customers.map((customer) => delta({ customer, hour: hour(2) })),
      ]);
      const claimed = await store().claim(claimRequest());
      const expected = [hour(2), hour(5)].flatMap((h) =>
        [1, 2, 3].map((n) => idOf({ customer: licenseIdentity(n), hour: h })).sort(),
      );
      expect(ids(claimed)).toEqual(expected);
    });

    it('returns forced customers first', async () => {
      const forced = licenseIdentity(9);
      await store().addUsage([
        delta({ customer: licenseIdentity(1), hour: hour(1) }),
        delta({ customer: forced, hour: hour(7) }),
        delta({ customer: forced, hour: hour(12) }),
        delta({ customer: licenseIdentity(2), hour: hour(3) }),
      ]);
      const claimed = await store().claim(
        claimRequest({ now: hour(12), dueBefore: hour(10), forceCustomerKeys: [customerKey(forced)], limit: 3 }),
      );
      expect(ids(claimed)).toEqual([
        idOf({ customer: forced, hour: hour(7) }),
        idOf({ customer: forced, hour: hour(12) }),
        idOf({ customer: licenseIdentity(1), hour: hour(1) }),
      ]);
    });

    it('returns at most limit records and leaves the others for the next claim', async () => {
      await store().addUsage([1, 2, 3, 4, 5].map((h) => delta({ hour: hour(h) })));
      const first = await store().claim(claimRequest({ limit: 2 }));
      const second = await store().claim(claimRequest({ limit: 2 }));
      const third = await store().claim(claimRequest({ limit: 2 }));
      expect(first.map((r) => r.hour)).toEqual([hour(1), hour(2)]);
      expect(second.map((r) => r.hour)).toEqual([hour(3), hour(4)]);
      expect(third.map((r) => r.hour)).toEqual([hour(5)]);
      await expect(store().claim(claimRequest())).resolves.toEqual([]);
    });

    it('freezes due records even when the limit is 0', async () => {
      await store().addUsage([delta({ hour: hour(1) })]);
      await expect(store().claim(claimRequest({ limit: 0 }))).resolves.toEqual([]);
      expect((await getRecord(store(), idOf({ hour: hour(1) }))).state).toBe('pending');
    });

    it('does not return pending records before their nextAttemptAt', async () => {
      await store().addUsage([delta()]);
      await store().claim(claimRequest({ owner: 'a', now: hour(10) }));
      await store().release([{ id: idOf(), nextAttemptAt: hour(11) }], 'a');
      await expect(store().claim(claimRequest({ now: hour(11) - 1 }))).resolves.toEqual([]);
      await expect(store().claim(claimRequest({ now: hour(11) }))).resolves.toHaveLength(1);
    });

    it('does not return a leased record to anyone until its lease expires, then fences the old owner', async () => {
      await store().addUsage([delta()]);
      const now = hour(10);
      await expect(store().claim(claimRequest({ owner: 'a', now, leaseMs: LEASE }))).resolves.toHaveLength(1);
      await expect(store().claim(claimRequest({ owner: 'b', now: now + LEASE - 1 }))).resolves.toEqual([]);
      await expect(store().claim(claimRequest({ owner: 'a', now: now + LEASE - 1 }))).resolves.toEqual([]);

      const [taken] = await store().claim(claimRequest({ owner: 'b', now: now + LEASE, leaseMs: LEASE }));
      expect(taken).toMatchObject({ id: idOf(), leaseOwner: 'b', leaseUntil: now + 2 * LEASE });

      await expect(store().journal([idOf()], 'a', now + LEASE + 1)).resolves.toEqual([]);
      await store().settle([{ id: idOf(), state: 'sent', meteringRecordId: 'from-a' }], 'a', now + LEASE + 2);
      await store().release([{ id: idOf(), nextAttemptAt: now }], 'a');
      await expect(getRecord(store(), idOf())).resolves.toEqual(taken);

      await expect(store().journal([idOf()], 'b', now + LEASE + 3)).resolves.toEqual([idOf()]);
      await store().settle([{ id: idOf(), state: 'sent', meteringRecordId: 'from-b' }], 'b', now + LEASE + 4);
      expect(await getRecord(store(), idOf())).toMatchObject({ state: 'sent', meteringRecordId: 'from-b', attempts: 1 });
    });

    it('never returns open records that are not due', async () => {
      await store().addUsage([delta({ hour: hour(10) })]);
      await expect(store().claim(claimRequest({ now: hour(10) + 1, dueBefore: hour(10) }))).resolves.toEqual([]);
    });
  });
}

export function describeJournalSettleRelease(store: () => UsageStore): void {
  describe('journal, settle and release', () => {
    beforeEach(async () => {
      await store().addUsage([delta({ hour: hour(1) }), delta({ hour: hour(2) }), delta({ hour: hour(3) })]);
      await store().claim(claimRequest({ owner: 'a', limit: 2 }));
    });
    const leased1 = () => idOf({ hour: hour(1) });
    const leased2 = () => idOf({ hour: hour(2) });
    const pending3 = () => idOf({ hour: hour(3) });

    it('journals attempts only for records leased by the owner', async () => {
      await expect(store().journal([leased1(), pending3(), 'no-such-record'], 'a', hour(10) + 1)).resolves.toEqual([
        leased1(),
      ]);
      await expect(store().journal([leased1(), leased2()], 'a', hour(10) + 2)).resolves.toEqual([leased1(), leased2()]);
      await expect(store().journal([leased1()], 'someone-else', hour(10) + 3)).resolves.toEqual([]);

      expect(await getRecord(store(), leased1())).toMatchObject({ attempts: 2, lastAttemptAt: hour(10) + 2 });
      expect(await getRecord(store(), leased2())).toMatchObject({ attempts: 1, lastAttemptAt: hour(10) + 2 });
      const untouched = await getRecord(store(), pending3());
      expect(untouched.attempts).toBe(0);
      expect(untouched.lastAttemptAt).toBeUndefined();
    });

    it('settles leased records into their terminal state and clears the lease', async () => {
      await store().journal([leased1()], 'a', hour(10) + 1);
      await store().settle(
        [
          { id: leased1(), state: 'sent', meteringRecordId: 'mr-1' },
          { id: leased2(), state: 'rejected', reason: 'InvalidUsageDimension' },
          { id: pending3(), state: 'sent', meteringRecordId: 'mr-3' },
        ],
        'a',
        hour(10) + 2,
      );
      const sent = await getRecord(store(), leased1());
      expect(sent).toMatchObject({ state: 'sent', settledAt: hour(10) + 2, meteringRecordId: 'mr-1', attempts: 1 });
      expect(sent.leaseOwner).toBeUndefined();
      expect(sent.leaseUntil).toBeUndefined();
      const rejected = await getRecord(store(), leased2());
      expect(rejected).toMatchObject({ state: 'rejected', settledAt: hour(10) + 2, reason: 'InvalidUsageDimension' });
      expect(rejected.meteringRecordId).toBeUndefined();
      expect((await getRecord(store(), pending3())).state).toBe('pending');

      const later = await store().claim(claimRequest({ owner: 'b', now: hour(20), dueBefore: hour(20) }));
      expect(ids(later)).toEqual([pending3()]);
    });

    it('accepts every terminal state', async () => {
      await store().addUsage(TERMINAL_STATES.map((_, i) => delta({ hour: hour(4 + i) })));
      const claimed = await store().claim(claimRequest({ owner: 'a' }));
      await store().settle(
        TERMINAL_STATES.map((state, i) => ({ id: idOf({ hour: hour(4 + i) }), state })),
        'a',
        hour(11),
      );
      expect(claimed).toHaveLength(TERMINAL_STATES.length + 1);
      for (const [i, state] of TERMINAL_STATES.entries()) {
        expect((await getRecord(store(), idOf({ hour: hour(4 + i) }))).state).toBe(state);
      }
    });

    it('releases leased records as pending, keeping attempts, due again at nextAttemptAt', async () => {
      await store().journal([leased1()], 'a', hour(10) + 1);
      await store().release(
        [
          { id: leased1(), nextAttemptAt: hour(12), reason: 'Throttling' },
          { id: leased2(), nextAttemptAt: hour(11) },
        ],
        'a',
      );
      const released = await getRecord(store(), leased1());
      expect(released).toMatchObject({ state: 'pending', nextAttemptAt: hour(12), reason: 'Throttling', attempts: 1 });
      expect(released.leaseOwner).toBeUndefined();
      expect(released.leaseUntil).toBeUndefined();
      expect(released.settledAt).toBeUndefined();

      const atEleven = await store().claim(claimRequest({ owner: 'b', now: hour(11), leaseMs: 2 * HOUR }));
      expect(ids(atEleven)).toEqual([leased2(), pending3()]);
      const atTwelve = await store().claim(claimRequest({ owner: 'b', now: hour(12) }));
      expect(ids(atTwelve)).toEqual([leased1()]);
    });

    it('journals nothing under a lease that has run out: another instance may have taken the record over', async () => {
      // The claim in beforeEach leased at claimRequest's now (hour 10) for LEASE.
      await expect(store().journal([leased1()], 'a', hour(10) + LEASE)).resolves.toEqual([]);
      expect(await getRecord(store(), leased1())).toMatchObject({ attempts: 0, mayHaveLanded: false });
      await expect(store().journal([leased1()], 'a', hour(10) + LEASE - 1)).resolves.toEqual([leased1()]);
      const [takenOver] = await store().claim(claimRequest({ owner: 'b', now: hour(10) + LEASE, limit: 1 }));
      expect(takenOver).toMatchObject({ id: leased1(), leaseOwner: 'b' });
      await expect(store().journal([leased1()], 'a', hour(10) + LEASE + 1)).resolves.toEqual([]);
      expect(await getRecord(store(), leased1())).toMatchObject({ attempts: 1, leaseOwner: 'b' });
    });

    it('marks journaled records as possibly landed, and clears the mark only for the owner, keeping attempts', async () => {
      await store().journal([leased1(), leased2()], 'a', hour(10) + 1);
      expect(await getRecord(store(), leased1())).toMatchObject({ attempts: 1, mayHaveLanded: true });

      await store().clearMayHaveLanded([leased1(), pending3(), 'no-such-record'], 'a');
      await store().clearMayHaveLanded([leased2()], 'someone-else');
      expect(await getRecord(store(), leased1())).toMatchObject({ attempts: 1, mayHaveLanded: false, state: 'sending', leaseOwner: 'a' });
      expect(await getRecord(store(), leased2())).toMatchObject({ attempts: 1, mayHaveLanded: true });
      expect((await getRecord(store(), pending3())).mayHaveLanded).toBe(false);

      await store().journal([leased1()], 'a', hour(10) + 2);
      expect(await getRecord(store(), leased1())).toMatchObject({ attempts: 2, mayHaveLanded: true });
    });

    it('keeps the mark through release, expiry of the lease and a new claim, and fences the old owner', async () => {
      await store().journal([leased1()], 'a', hour(10) + 1);
      await store().release([{ id: leased1(), nextAttemptAt: hour(10) }], 'a');
      const [again] = await store().claim(claimRequest({ owner: 'b', limit: 1 }));
      expect(again).toMatchObject({ id: leased1(), leaseOwner: 'b', mayHaveLanded: true, attempts: 1 });

      const [takenOver] = await store().claim(claimRequest({ owner: 'c', now: hour(10) + LEASE, limit: 1 }));
      expect(takenOver).toMatchObject({ id: leased1(), leaseOwner: 'c', mayHaveLanded: true });
      await store().clearMayHaveLanded([leased1()], 'b');
      expect((await getRecord(store(), leased1())).mayHaveLanded).toBe(true);
      await store().clearMayHaveLanded([leased1()], 'c');
      await store().settle([{ id: leased1(), state: 'duplicate', reason: 'DuplicateRecord' }], 'c', hour(10) + LEASE + 1);
      expect(await getRecord(store(), leased1())).toMatchObject({ state: 'duplicate', mayHaveLanded: false, attempts: 1 });
    });

    it('ignores releases by anyone but the owner', async () => {
      await store().release([{ id: leased1(), nextAttemptAt: hour(10) }], 'b');
      await store().release([{ id: pending3(), nextAttemptAt: hour(15) }], 'a');
      expect(await getRecord(store(), leased1())).toMatchObject({ state: 'sending', leaseOwner: 'a' });
      expect((await getRecord(store(), pending3())).nextAttemptAt).toBe(hour(10));
    });
  });
}
