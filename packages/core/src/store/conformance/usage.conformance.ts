import type { Tags } from '../../model/usage';
import type { UsageStore } from '../usage-store';
import { getRecord } from './context';
import type { DeltaSpec } from './fixtures';
import { claimRequest, delta, hour, idOf, legacyIdentifierIdentity, licenseIdentity, PRODUCT } from './fixtures';
import { customerKey } from '../../model/customer';

export function describeAddUsage(store: () => UsageStore): void {
  describe('addUsage', () => {
    it('creates an open metered record holding the delta', async () => {
      const customer = licenseIdentity(1);
      await expect(store().addUsage([delta({ customer, quantity: 7 })])).resolves.toEqual({ late: [] });
      const record = await getRecord(store(), idOf({ customer }));
      expect(record).toEqual({
        id: idOf({ customer }),
        customer,
        customerKey: customerKey(customer),
        productCode: PRODUCT,
        dimension: 'requests',
        hour: hour(0),
        state: 'open',
        quantity: 7,
        source: 'metered',
        attempts: 0,
        mayHaveLanded: false,
        nextAttemptAt: expect.any(Number),
      });
      expect(record.frozen).toBeUndefined();
      expect(record.leaseOwner).toBeUndefined();
      expect(record.leaseUntil).toBeUndefined();
      expect(record.settledAt).toBeUndefined();
    });

    it('adds increments up within one call and across calls', async () => {
      await store().addUsage([delta({ quantity: 2 }), delta({ quantity: 3 })]);
      await store().addUsage([delta({ quantity: 5 })]);
      await store().addUsage([delta({ quantity: 0 })]);
      expect((await getRecord(store(), idOf())).quantity).toBe(10);
    });

    it('applies a batch id once: a retried write whose answer was lost does not count twice', async () => {
      const customer = licenseIdentity(2);
      const batch = [delta({ customer, quantity: 4 }), delta({ customer, quantity: 1, dimension: 'storage' })];
      const first = await store().addUsage(batch, 'batch-1');
      expect(first.applied).not.toBe(false);
      await expect(store().addUsage(batch, 'batch-1')).resolves.toMatchObject({ late: [], applied: false });
      await store().addUsage([delta({ customer, quantity: 4 })], 'batch-2');
      await store().addUsage([delta({ customer, quantity: 4 })]);
      await store().addUsage([delta({ customer, quantity: 4 })]);
      expect((await getRecord(store(), idOf({ customer }))).quantity).toBe(16);
      expect((await getRecord(store(), idOf({ customer, dimension: 'storage' }))).quantity).toBe(1);
    });

    it('keeps one record per customer, dimension and hour', async () => {
      const other = legacyIdentifierIdentity(2);
      await store().addUsage([
        delta({ quantity: 1 }),
        delta({ quantity: 2, dimension: 'storage' }),
        delta({ quantity: 4, hour: hour(1) }),
        delta({ quantity: 8, customer: other }),
        delta({ quantity: 16, tags: { team: 'a' } }),
      ]);
      const records = await store().listRecords();
      expect(records).toHaveLength(4);
      expect((await getRecord(store(), idOf())).quantity).toBe(17);
      expect((await getRecord(store(), idOf({ dimension: 'storage' }))).quantity).toBe(2);
      expect((await getRecord(store(), idOf({ hour: hour(1) }))).quantity).toBe(4);
      expect((await getRecord(store(), idOf({ customer: other }))).quantity).toBe(8);
    });

    it('accepts an empty batch', async () => {
      await expect(store().addUsage([])).resolves.toEqual({ late: [] });
      await expect(store().listRecords()).resolves.toEqual([]);
    });

    it('counts usage that reaches a frozen record in quantity, not in what is sent, and reports it late', async () => {
      await store().addUsage([delta({ quantity: 5, hour: hour(0) }), delta({ quantity: 1, hour: hour(10) })]);
      await store().claim(claimRequest({ limit: 0 }));
      const lateDelta = delta({ quantity: 3, hour: hour(0) });
      const lateTagged = delta({ quantity: 2, hour: hour(0), tags: { team: 'x' } });
      const onTime = delta({ quantity: 4, hour: hour(10) });
      const result = await store().addUsage([lateDelta, onTime, lateTagged]);
      expect(result.late).toEqual([lateDelta, lateTagged]);

      const frozen = await getRecord(store(), idOf({ hour: hour(0) }));
      expect(frozen.quantity).toBe(10);
      expect(frozen.frozen).toEqual({ quantity: 5, allocations: [] });
      expect((await getRecord(store(), idOf({ hour: hour(10) }))).quantity).toBe(5);
      expect((await store().stats()).lateQuantity).toBe(5);
    });
  });
}

export function describeFreezing(store: () => UsageStore): void {
  describe('freezing due records in claim', () => {
    it('freezes only open records whose hour starts before dueBefore', async () => {
      await store().addUsage([
        delta({ hour: hour(8), quantity: 1 }),
        delta({ hour: hour(9), quantity: 2 }),
        delta({ hour: hour(10), quantity: 3 }),
      ]);
      const claimed = await store().claim(claimRequest({ now: hour(10) + 5, dueBefore: hour(10) }));
      expect(claimed.map((r) => r.hour)).toEqual([hour(8), hour(9)]);
      for (const record of claimed) expect(record.frozen).toEqual({ quantity: record.quantity, allocations: [] });

      const current = await getRecord(store(), idOf({ hour: hour(10) }));
      expect(current.state).toBe('open');
      expect(current.frozen).toBeUndefined();
      await expect(store().addUsage([delta({ hour: hour(10), quantity: 1 })])).resolves.toEqual({ late: [] });
      expect((await getRecord(store(), idOf({ hour: hour(10) }))).quantity).toBe(4);
    });

    it('freezes every open record of forced customers, current hour included, and no one else', async () => {
      const leaving = licenseIdentity(1);
      const staying = licenseIdentity(2);
      await store().addUsage([
        delta({ customer: leaving, hour: hour(10), quantity: 1 }),
        delta({ customer: leaving, hour: hour(11), quantity: 2 }),
        delta({ customer: staying, hour: hour(10), quantity: 3 }),
      ]);
      const claimed = await store().claim(
        claimRequest({ now: hour(11), dueBefore: hour(10), forceCustomerKeys: [customerKey(leaving)] }),
      );
      expect(claimed.map((r) => [r.customerKey, r.hour])).toEqual([
        [customerKey(leaving), hour(10)],
        [customerKey(leaving), hour(11)],
      ]);
      expect((await getRecord(store(), idOf({ customer: staying, hour: hour(10) }))).state).toBe('open');
    });

    it('makes a frozen record due at the time it is frozen', async () => {
      await store().addUsage([delta({ hour: hour(0) })]);
      await store().claim(claimRequest({ now: hour(3), dueBefore: hour(1), limit: 0 }));
      const record = await getRecord(store(), idOf({ hour: hour(0) }));
      expect(record.state).toBe('pending');
      expect(record.nextAttemptAt).toBe(hour(3));
    });

    it('sends untagged-only usage without allocations', async () => {
      await store().addUsage([delta({ quantity: 4 }), delta({ quantity: 6 })]);
      const [record] = await store().claim(claimRequest());
      expect(record?.frozen).toStrictEqual({ quantity: 10, allocations: [] });
    });

    it('lists every allocation of tagged usage, in a deterministic order', async () => {
      const first = licenseIdentity(1);
      const second = licenseIdentity(2);
      const deltas: DeltaSpec[] = [
        { tags: { team: 'b' }, quantity: 1 },
        { quantity: 2 },
        { tags: { team: 'a', env: 'prod' }, quantity: 4 },
        { tags: { team: 'a' }, quantity: 8 },
        { tags: { team: 'b' }, quantity: 16 },
      ];
      await store().addUsage(deltas.map((spec) => delta({ ...spec, customer: first })));
      const reversedTags = (tags: Tags | undefined) =>
        tags === undefined ? undefined : Object.fromEntries(Object.entries(tags).reverse());
      await store().addUsage(
        [...deltas].reverse().map((spec) => delta({ ...spec, tags: reversedTags(spec.tags), customer: second })),
      );
      const [a, b] = await store().claim(claimRequest());

      const expected = {
        quantity: 31,
        allocations: [
          { quantity: 2 },
          { tags: { env: 'prod', team: 'a' }, quantity: 4 },
          { tags: { team: 'a' }, quantity: 8 },
          { tags: { team: 'b' }, quantity: 17 },
        ],
      };
      expect(a?.frozen).toStrictEqual(expected);
      expect(b?.frozen).toStrictEqual(expected);
      expect(JSON.stringify(a?.frozen)).toBe(JSON.stringify(b?.frozen));
    });

    it('never changes a frozen snapshot, through late usage, release and re-claim', async () => {
      await store().addUsage([delta({ quantity: 3, tags: { team: 'a' } })]);
      const [claimed] = await store().claim(claimRequest({ owner: 'a' }));
      await store().addUsage([delta({ quantity: 5, tags: { team: 'a' } }), delta({ quantity: 1 })]);
      await store().release([{ id: idOf(), nextAttemptAt: hour(10) }], 'a');
      const [again] = await store().claim(claimRequest({ owner: 'b' }));
      expect(again?.frozen).toStrictEqual(claimed?.frozen);
      expect(again?.frozen).toStrictEqual({ quantity: 3, allocations: [{ tags: { team: 'a' }, quantity: 3 }] });
      expect(again?.quantity).toBe(9);
    });
  });
}
