import type { RecordState, UsageStore } from '../usage-store';
import { customerKey } from '../../model/customer';
import { ids } from './context';
import { claimRequest, delta, finalTotal, hour, idOf, licenseIdentity } from './fixtures';

const ALL_STATES: readonly RecordState[] = [
  'open',
  'pending',
  'sending',
  'sent',
  'not-subscribed',
  'duplicate',
  'rejected',
  'expired',
  'dry-run',
];

export function describeListRecords(store: () => UsageStore): void {
  describe('listRecords', () => {
    const one = licenseIdentity(1);
    const two = licenseIdentity(2);

    beforeEach(async () => {
      await store().addUsage([
        delta({ customer: two, hour: hour(3) }),
        delta({ customer: one, hour: hour(3) }),
        delta({ customer: one, hour: hour(1) }),
        delta({ customer: two, hour: hour(2) }),
        delta({ customer: one, hour: hour(12) }),
      ]);
      await store().claim(claimRequest({ owner: 'a', limit: 1 }));
    });

    it('lists every record by hour, then id', async () => {
      const expected = [
        idOf({ customer: one, hour: hour(1) }),
        idOf({ customer: two, hour: hour(2) }),
        ...[idOf({ customer: one, hour: hour(3) }), idOf({ customer: two, hour: hour(3) })].sort(),
        idOf({ customer: one, hour: hour(12) }),
      ];
      expect(ids(await store().listRecords())).toEqual(expected);
      expect(ids(await store().listRecords({}))).toEqual(expected);
    });

    it('filters by states', async () => {
      expect(ids(await store().listRecords({ states: ['sending'] }))).toEqual([idOf({ customer: one, hour: hour(1) })]);
      expect((await store().listRecords({ states: ['pending', 'open'] })).map((r) => r.hour)).toEqual([
        hour(2),
        hour(3),
        hour(3),
        hour(12),
      ]);
      await expect(store().listRecords({ states: ['sent'] })).resolves.toEqual([]);
      await expect(store().listRecords({ states: [] })).resolves.toEqual([]);
    });

    it('filters by customer', async () => {
      expect((await store().listRecords({ customerKey: customerKey(two) })).map((r) => r.hour)).toEqual([
        hour(2),
        hour(3),
      ]);
      await expect(store().listRecords({ customerKey: 'license:unknown' })).resolves.toEqual([]);
    });

    it('filters by hour, from inclusive to exclusive', async () => {
      expect((await store().listRecords({ hourFrom: hour(2), hourTo: hour(12) })).map((r) => r.hour)).toEqual([
        hour(2),
        hour(3),
        hour(3),
      ]);
      expect((await store().listRecords({ hourFrom: hour(3) })).map((r) => r.hour)).toEqual([hour(3), hour(3), hour(12)]);
      expect((await store().listRecords({ hourTo: hour(3) })).map((r) => r.hour)).toEqual([hour(1), hour(2)]);
    });

    it('limits the result and combines filters', async () => {
      expect((await store().listRecords({ limit: 2 })).map((r) => r.hour)).toEqual([hour(1), hour(2)]);
      await expect(store().listRecords({ limit: 0 })).resolves.toEqual([]);
      const combined = await store().listRecords({
        states: ['pending', 'open'],
        customerKey: customerKey(one),
        hourFrom: hour(1),
        hourTo: hour(13),
        limit: 1,
      });
      expect(ids(combined)).toEqual([idOf({ customer: one, hour: hour(3) })]);
    });
  });
}

export function describeStats(store: () => UsageStore): void {
  describe('stats', () => {
    it('reports every state, even when the store is empty', async () => {
      const stats = await store().stats();
      expect(stats).toEqual({
        unsettledByHour: [],
        countsByState: Object.fromEntries(ALL_STATES.map((state) => [state, 0])),
        lateQuantity: 0,
        lastSentAt: undefined,
      });
      expect('lastSentAt' in stats && stats.lastSentAt === undefined).toBe(true);
      expect(Object.keys(stats.countsByState).sort()).toEqual([...ALL_STATES].sort());
    });

    it('lastSentAt is the newest settledAt of a sent record: other outcomes and later claims leave it', async () => {
      await store().addUsage([delta({ hour: hour(1) }), delta({ hour: hour(2) }), delta({ hour: hour(3) })]);
      await store().claim(claimRequest({ owner: 'a', limit: 3 }));
      await store().settle([{ id: idOf({ hour: hour(2) }), state: 'sent' }], 'a', hour(9));
      await store().settle([{ id: idOf({ hour: hour(1) }), state: 'sent' }], 'a', hour(8));
      await store().settle([{ id: idOf({ hour: hour(3) }), state: 'rejected', reason: 'InvalidUsageDimensionException' }], 'a', hour(10));
      expect((await store().stats()).lastSentAt).toBe(hour(9));
    });

    it('counts records by state, unsettled records per hour and late units', async () => {
      await store().addUsage([
        delta({ hour: hour(1), quantity: 10 }),
        delta({ hour: hour(1), quantity: 20, dimension: 'storage' }),
        delta({ hour: hour(2), quantity: 40 }),
        delta({ hour: hour(3), quantity: 80 }),
        delta({ hour: hour(11), quantity: 160 }),
      ]);
      await store().setTotal(finalTotal({ quantity: 5, allocations: [] }, { hour: hour(4) }), hour(30));
      await store().claim(claimRequest({ owner: 'a', limit: 2 }));
      await store().settle([{ id: idOf({ hour: hour(1) }), state: 'sent' }], 'a', hour(10));
      await store().addUsage([delta({ hour: hour(1), quantity: 1 }), delta({ hour: hour(3), quantity: 2 })]);

      const stats = await store().stats();
      expect(stats.countsByState).toEqual({
        ...Object.fromEntries(ALL_STATES.map((state) => [state, 0])),
        open: 1,
        pending: 3,
        sending: 1,
        sent: 1,
      });
      expect(stats.unsettledByHour).toEqual([
        { hour: hour(1), records: 1, quantity: 20 },
        { hour: hour(2), records: 1, quantity: 40 },
        { hour: hour(3), records: 1, quantity: 82 },
        { hour: hour(4), records: 1, quantity: 5 },
        { hour: hour(11), records: 1, quantity: 160 },
      ]);
      expect(stats.lateQuantity).toBe(3);
    });
  });
}
