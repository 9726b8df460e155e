import type { UsageStore } from '../usage-store';
import { getRecord } from './context';
import { claimRequest, delta, finalTotal, hour, idOf, legacyAccountIdentity } from './fixtures';

export function describeSetTotal(store: () => UsageStore): void {
  describe('setTotal', () => {
    const tagged = {
      quantity: 12,
      allocations: [
        { tags: { team: 'a' }, quantity: 5 },
        { tags: { team: 'b' }, quantity: 7 },
      ],
    };

    it('stores a finalized total as a frozen, pending record due now', async () => {
      const customer = legacyAccountIdentity(3);
      const total = finalTotal(tagged, { customer, hour: hour(2), dimension: 'seats' });
      await expect(store().setTotal(total, hour(5))).resolves.toEqual({ outcome: 'created' });
      const record = await getRecord(store(), idOf({ customer, hour: hour(2), dimension: 'seats' }));
      expect(record).toEqual({
        id: idOf({ customer, hour: hour(2), dimension: 'seats' }),
        customer,
        customerKey: total.customerKey,
        productCode: total.productCode,
        dimension: 'seats',
        hour: hour(2),
        state: 'pending',
        quantity: 12,
        frozen: tagged,
        source: 'total',
        attempts: 0,
        mayHaveLanded: false,
        nextAttemptAt: hour(5),
      });
      const [claimed] = await store().claim(claimRequest({ now: hour(5), dueBefore: hour(0) }));
      expect(claimed?.frozen).toStrictEqual(tagged);
    });

    it('answers unchanged for the same total, whatever the order of its allocations', async () => {
      await store().setTotal(finalTotal(tagged), hour(5));
      await expect(store().setTotal(finalTotal(tagged), hour(6))).resolves.toEqual({ outcome: 'unchanged' });
      const reordered = { quantity: 12, allocations: [...tagged.allocations].reverse() };
      await expect(store().setTotal(finalTotal(reordered), hour(6))).resolves.toEqual({ outcome: 'unchanged' });
      expect((await getRecord(store(), idOf())).nextAttemptAt).toBe(hour(5));
    });

    it('answers unchanged for the same untagged total', async () => {
      await store().setTotal(finalTotal({ quantity: 3, allocations: [] }), hour(5));
      await expect(store().setTotal(finalTotal({ quantity: 3, allocations: [] }), hour(5))).resolves.toEqual({
        outcome: 'unchanged',
      });
    });

    it('answers conflict for a different quantity and changes nothing', async () => {
      await store().setTotal(finalTotal(tagged), hour(5));
      const before = await getRecord(store(), idOf());
      const result = await store().setTotal(
        finalTotal({ quantity: 13, allocations: [...tagged.allocations, { quantity: 1 }] }),
        hour(6),
      );
      expect(result).toEqual({ outcome: 'conflict', existing: before });
      await expect(getRecord(store(), idOf())).resolves.toEqual(before);
    });

    it('answers conflict for the same quantity allocated differently', async () => {
      await store().setTotal(finalTotal(tagged), hour(5));
      const moved = {
        quantity: 12,
        allocations: [
          { tags: { team: 'a' }, quantity: 6 },
          { tags: { team: 'b' }, quantity: 6 },
        ],
      };
      await expect(store().setTotal(finalTotal(moved), hour(6))).resolves.toMatchObject({ outcome: 'conflict' });
      await expect(store().setTotal(finalTotal({ quantity: 12, allocations: [] }), hour(6))).resolves.toMatchObject({
        outcome: 'conflict',
      });
      expect((await getRecord(store(), idOf())).frozen).toStrictEqual(tagged);
    });

    it('answers conflict when metered usage already holds the record, open or frozen', async () => {
      await store().addUsage([delta({ quantity: 4, hour: hour(0) }), delta({ quantity: 4, hour: hour(1) })]);
      await store().claim(claimRequest({ dueBefore: hour(1), limit: 0 }));
      const open = await getRecord(store(), idOf({ hour: hour(1) }));
      const frozen = await getRecord(store(), idOf({ hour: hour(0) }));
      const same = { quantity: 4, allocations: [] };

      await expect(store().setTotal(finalTotal(same, { hour: hour(1) }), hour(5))).resolves.toEqual({
        outcome: 'conflict',
        existing: open,
      });
      await expect(store().setTotal(finalTotal(same, { hour: hour(0) }), hour(5))).resolves.toEqual({
        outcome: 'conflict',
        existing: frozen,
      });
      await expect(getRecord(store(), idOf({ hour: hour(1) }))).resolves.toEqual(open);
      await expect(getRecord(store(), idOf({ hour: hour(0) }))).resolves.toEqual(frozen);
    });

    it('treats metered usage reaching a total as late', async () => {
      await store().setTotal(finalTotal({ quantity: 3, allocations: [] }), hour(5));
      const late = delta({ quantity: 2 });
      await expect(store().addUsage([late])).resolves.toEqual({ late: [late] });
      const record = await getRecord(store(), idOf());
      expect(record.quantity).toBe(5);
      expect(record.frozen).toStrictEqual({ quantity: 3, allocations: [] });
      expect((await store().stats()).lateQuantity).toBe(2);
    });
  });
}
