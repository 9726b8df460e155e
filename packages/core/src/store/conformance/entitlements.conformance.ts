import { ErrorCodes, isMeterkitError } from '../../errors';
import { customerKey } from '../../model/customer';
import type { EntitlementStore } from '../entitlement-store';
import { isEntitlementStore } from '../entitlement-store';
import type { UsageStore } from '../usage-store';
import type { StoreContext } from './context';
import { findRecord, getRecord } from './context';
import { claimRequest, delta, entitlementSet, hour, idOf, includedUse, licenseIdentity, T0 } from './fixtures';

type ContractStore = UsageStore & EntitlementStore;

/** The store under test as an EntitlementStore; a store without the methods fails with what to do. */
function contractStore(store: UsageStore): ContractStore {
  if (!isEntitlementStore(store)) {
    throw new Error(
      `The ${store.kind} store does not implement EntitlementStore (putEntitlements, getEntitlements, listEntitlements, ` +
        'addUsageAboveIncluded, listAllowanceCounters), which contract products need: implement it, or pass ' +
        '{ entitlements: false } to describeUsageStoreConformance() to leave these tests out.',
    );
  }
  return store;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

export function describeEntitlementSets(current: () => UsageStore): void {
  const store = () => contractStore(current());

  describe('entitlement sets', () => {
    it('stores a first set whole and answers that it wrote', async () => {
      const set = entitlementSet({
        entitlements: [
          { dimension: 'seats', value: 10, valueType: 'integer', expiresAt: T0 + 1000 },
          { dimension: 'storage_gb', value: 2.5, valueType: 'double' },
          { dimension: 'sso', value: true, valueType: 'boolean' },
          { dimension: 'tier', value: 'gold', valueType: 'string' },
        ],
      });
      await expect(store().putEntitlements(set)).resolves.toBe(true);
      await expect(store().getEntitlements(set.customerKey)).resolves.toEqual(set);
      await expect(store().getEntitlements(customerKey(licenseIdentity(2)))).resolves.toBeUndefined();
    });

    it('replaces the set whole with one fetched later: dimensions it lacks are gone', async () => {
      await store().putEntitlements(entitlementSet({ fetchedAt: T0 }));
      const newer = entitlementSet({
        fetchedAt: T0 + 1,
        trigger: 'event:amended-1',
        entitlements: [{ dimension: 'seats', value: 20, valueType: 'integer' }],
      });
      await expect(store().putEntitlements(newer)).resolves.toBe(true);
      await expect(store().getEntitlements(newer.customerKey)).resolves.toEqual(newer);
    });

    it('refuses a set fetched earlier than, or at the same time as, the stored one and keeps the stored one', async () => {
      const stored = entitlementSet({ fetchedAt: T0 + 100, entitlements: [{ dimension: 'seats', value: 20, valueType: 'integer' }] });
      await store().putEntitlements(stored);
      const older = entitlementSet({ fetchedAt: T0 + 99, entitlements: [{ dimension: 'seats', value: 5, valueType: 'integer' }] });
      const same = entitlementSet({ fetchedAt: T0 + 100, trigger: 'timer', entitlements: [] });
      await expect(store().putEntitlements(older)).resolves.toBe(false);
      await expect(store().putEntitlements(same)).resolves.toBe(false);
      await expect(store().getEntitlements(stored.customerKey)).resolves.toEqual(stored);
    });

    it('keeps a revoked set as revoked, and an older live read does not bring it back', async () => {
      await store().putEntitlements(entitlementSet({ fetchedAt: T0 }));
      const revoked = entitlementSet({ fetchedAt: T0 + 10, trigger: 'event:ended-1', entitlements: [], revoked: true });
      await expect(store().putEntitlements(revoked)).resolves.toBe(true);
      await expect(store().putEntitlements(entitlementSet({ fetchedAt: T0 + 5 }))).resolves.toBe(false);
      await expect(store().getEntitlements(revoked.customerKey)).resolves.toEqual(revoked);
      const renewed = entitlementSet({ fetchedAt: T0 + 20, trigger: 'event:created-2' });
      await expect(store().putEntitlements(renewed)).resolves.toBe(true);
      const read = await store().getEntitlements(renewed.customerKey);
      expect(read).toEqual(renewed);
      expect(read?.revoked).not.toBe(true);
    });

    it('lists every customer\'s current set', async () => {
      const a = entitlementSet({ customer: licenseIdentity(1), fetchedAt: T0 + 2 });
      const b = entitlementSet({ customer: licenseIdentity(2), fetchedAt: T0 + 1, entitlements: [] , revoked: true });
      await expect(store().listEntitlements()).resolves.toEqual([]);
      await store().putEntitlements(entitlementSet({ customer: licenseIdentity(1), fetchedAt: T0 }));
      await store().putEntitlements(a);
      await store().putEntitlements(b);
      const listed = await store().listEntitlements();
      expect([...listed].sort((x, y) => (x.customerKey < y.customerKey ? -1 : 1))).toEqual(
        [a, b].sort((x, y) => (x.customerKey < y.customerKey ? -1 : 1)),
      );
    });
  });
}

export function describeUsageAboveIncluded(current: () => UsageStore): void {
  const store = () => contractStore(current());

  describe('addUsageAboveIncluded', () => {
    it('meters exactly the part of each use above what the period includes, in order', async () => {
      const uses = [4, 4, 5, 2].map((quantity) => includedUse({ quantity, included: 10 }));
      const result = await store().addUsageAboveIncluded([], uses, 'batch-1');
      expect(result.applied).not.toBe(false);
      expect(result.late).toEqual([]);
      // used 0→4→8→13→15 against 10 included: 0, 0, 3, 2.
      expect(result.metered).toEqual([0, 0, 3, 2]);
      expect((await getRecord(store(), idOf())).quantity).toBe(5);
      await expect(store().listAllowanceCounters(customerKey(licenseIdentity(1)))).resolves.toEqual([
        { customerKey: customerKey(licenseIdentity(1)), allowanceDimension: 'api_calls', periodStart: hour(0), used: 15 },
      ]);
    });

    it('carries the counter across batches, each measured against the included value it was written with', async () => {
      await expect(store().addUsageAboveIncluded([], [includedUse({ quantity: 7, included: 10 })], 'b1')).resolves.toMatchObject({ metered: [0] });
      await expect(store().addUsageAboveIncluded([], [includedUse({ quantity: 7, included: 10 })], 'b2')).resolves.toMatchObject({ metered: [4] });
      // The entitlement was raised to 20: 14 used, 6 more are included, nothing already metered is taken back.
      await expect(store().addUsageAboveIncluded([], [includedUse({ quantity: 8, included: 20 })], 'b3')).resolves.toMatchObject({ metered: [2] });
      await expect(store().addUsageAboveIncluded([], [includedUse({ quantity: 1, included: 0 })], 'b4')).resolves.toMatchObject({ metered: [1] });
      expect((await getRecord(store(), idOf())).quantity).toBe(7);
    });

    it('creates no record for a use wholly included, and adds plain deltas as addUsage does', async () => {
      const customer = licenseIdentity(3);
      const plain = [delta({ customer, dimension: 'storage', quantity: 3 }), delta({ customer, dimension: 'exports', quantity: 0 })];
      const result = await store().addUsageAboveIncluded(plain, [includedUse({ customer, quantity: 10, included: 10 })], 'batch-1');
      expect(result.metered).toEqual([0]);
      await expect(findRecord(store(), idOf({ customer }))).resolves.toBeUndefined();
      expect((await getRecord(store(), idOf({ customer, dimension: 'storage' }))).quantity).toBe(3);
      expect((await getRecord(store(), idOf({ customer, dimension: 'exports' }))).quantity).toBe(0);
      expect((await store().listAllowanceCounters(customerKey(customer))).map((c) => c.used)).toEqual([10]);
    });

    it('applies a batch id once: the same batch again changes nothing and answers applied false', async () => {
      const plain = [delta({ dimension: 'storage', quantity: 2 })];
      const uses = [includedUse({ quantity: 12, included: 10 })];
      await store().addUsageAboveIncluded(plain, uses, 'batch-1');
      const before = { records: await store().listRecords(), counters: await store().listAllowanceCounters(customerKey(licenseIdentity(1))) };
      await expect(store().addUsageAboveIncluded(plain, uses, 'batch-1')).resolves.toEqual({ late: [], applied: false, metered: [] });
      await expect(store().listRecords()).resolves.toEqual(before.records);
      await expect(store().listAllowanceCounters(customerKey(licenseIdentity(1)))).resolves.toEqual(before.counters);
      await expect(store().addUsageAboveIncluded([], uses, 'batch-2')).resolves.toMatchObject({ metered: [12] });
    });

    it('writes all or none: a batch holding a use or delta no store can keep changes nothing', async () => {
      await store().addUsageAboveIncluded([], [includedUse({ quantity: 11, included: 10 })], 'batch-0');
      const before = { records: await store().listRecords(), counters: await store().listAllowanceCounters(customerKey(licenseIdentity(1))) };
      const valid = includedUse({ quantity: 5, included: 10 });
      const bad = [
        { deltas: [delta({ dimension: 'storage', quantity: 1.5 })], uses: [valid] },
        { deltas: [delta({ dimension: 'storage' })], uses: [valid, includedUse({ quantity: -1 })] },
        { deltas: [], uses: [valid, includedUse({ quantity: 1, included: 2.5 })] },
        { deltas: [], uses: [valid, includedUse({ quantity: 1, included: -1 })] },
        { deltas: [], uses: [valid, includedUse({ quantity: 1, periodStart: Number.NaN })] },
      ];
      for (const [i, batch] of bad.entries()) {
        const error = await rejection(store().addUsageAboveIncluded(batch.deltas, batch.uses, `bad-${i}`));
        expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
      }
      await expect(store().listRecords()).resolves.toEqual(before.records);
      await expect(store().listAllowanceCounters(customerKey(licenseIdentity(1)))).resolves.toEqual(before.counters);
      // A refused batch was not applied: its id is free for the corrected batch.
      await expect(store().addUsageAboveIncluded([], [valid], 'bad-0')).resolves.toMatchObject({ metered: [5] });
    });

    it('counts the metered part that reaches a frozen record as late, not in what is sent', async () => {
      await store().addUsageAboveIncluded([], [includedUse({ quantity: 13, included: 10 })], 'batch-1');
      await store().claim(claimRequest({ limit: 0 }));
      const use = includedUse({ quantity: 4, included: 10 });
      // Both uses count against the period of hour 0; the second one's metered part goes to the open record of hour 10.
      const result = await store().addUsageAboveIncluded([], [use, includedUse({ quantity: 2, included: 10, hour: hour(10), periodStart: hour(0) })], 'batch-2');
      expect(result.metered).toEqual([4, 2]);
      expect(result.late).toEqual([{ ...use.delta, quantity: 4 }]);
      const frozen = await getRecord(store(), idOf());
      expect(frozen.frozen).toEqual({ quantity: 3, allocations: [] });
      expect(frozen.quantity).toBe(7);
      expect((await getRecord(store(), idOf({ hour: hour(10) }))).state).toBe('open');
      expect((await store().stats()).lateQuantity).toBe(4);
    });

    it('keeps one counter per customer, allowance dimension and period; a month period spans hours', async () => {
      const a = licenseIdentity(1);
      const b = licenseIdentity(2);
      const month = T0;
      const result = await store().addUsageAboveIncluded(
        [],
        [
          includedUse({ customer: a, quantity: 6, hour: hour(0), periodStart: month, included: 10 }),
          includedUse({ customer: a, quantity: 6, hour: hour(5), periodStart: month, included: 10 }),
          includedUse({ customer: a, quantity: 6, dimension: 'exports', allowanceDimension: 'export_quota', periodStart: month, included: 10 }),
          includedUse({ customer: b, quantity: 6, hour: hour(5), periodStart: month, included: 10 }),
          includedUse({ customer: a, quantity: 6, hour: hour(1), included: 5 }),
        ],
        'batch-1',
      );
      expect(result.metered).toEqual([0, 2, 0, 0, 1]);
      expect((await getRecord(store(), idOf({ customer: a, hour: hour(5) }))).quantity).toBe(2);
      expect((await getRecord(store(), idOf({ customer: a, hour: hour(1) }))).quantity).toBe(1);
      await expect(findRecord(store(), idOf({ customer: a, hour: hour(0) }))).resolves.toBeUndefined();
      const counters = await store().listAllowanceCounters(customerKey(a));
      expect(counters[0]).toEqual({ customerKey: customerKey(a), allowanceDimension: 'api_calls', periodStart: hour(1), used: 6 });
      expect(counters.slice(1).sort((x, y) => (x.allowanceDimension < y.allowanceDimension ? -1 : 1))).toEqual([
        { customerKey: customerKey(a), allowanceDimension: 'api_calls', periodStart: month, used: 12 },
        { customerKey: customerKey(a), allowanceDimension: 'export_quota', periodStart: month, used: 6 },
      ]);
      await expect(store().listAllowanceCounters(customerKey(b))).resolves.toEqual([
        { customerKey: customerKey(b), allowanceDimension: 'api_calls', periodStart: month, used: 6 },
      ]);
      await expect(store().listAllowanceCounters(customerKey(licenseIdentity(9)))).resolves.toEqual([]);
    });

    it('lists a customer\'s counters newest period first', async () => {
      const periods = [hour(3), hour(0), hour(7), hour(1)];
      for (const [i, periodStart] of periods.entries()) {
        await store().addUsageAboveIncluded([], [includedUse({ hour: periodStart, periodStart, quantity: i + 1 })], `batch-${i}`);
      }
      const counters = await store().listAllowanceCounters(customerKey(licenseIdentity(1)));
      expect(counters.map((c) => [c.periodStart, c.used])).toEqual([
        [hour(7), 3],
        [hour(3), 1],
        [hour(1), 4],
        [hour(0), 2],
      ]);
    });
  });
}

/** Writers per handle in the concurrent consumption test, and uses per writer. */
const WRITERS = 8;
const USES_PER_WRITER = 3;

export function describeConcurrentConsumption(
  sharedStores: () => Promise<[UsageStore, UsageStore]>,
  context: StoreContext,
): void {
  describe('concurrent consumption on one backing store', () => {
    async function handles(): Promise<[ContractStore, ContractStore]> {
      const [a, b] = await sharedStores();
      return [contractStore(await context.track(a)), contractStore(await context.track(b))];
    }

    it('meters max(0, total − included) in all, however the two handles\' writes interleave', async () => {
      const [first, second] = await handles();
      const included = 40;
      const writes = [first, second].flatMap((handle, h) =>
        Array.from({ length: WRITERS }, (_, w) => {
          const uses = Array.from({ length: USES_PER_WRITER }, (_, u) => includedUse({ quantity: 1 + ((h * 7 + w * 3 + u) % 5), included }));
          return { uses, write: () => handle.addUsageAboveIncluded([], uses, `h${h}-w${w}`) };
        }),
      );
      const results = await Promise.all(writes.map((write) => write.write()));
      const total = writes.flatMap((write) => write.uses).reduce((sum, use) => sum + use.delta.quantity, 0);
      const metered = results.flatMap((result) => result.metered).reduce((sum, part) => sum + part, 0);
      expect(total).toBeGreaterThan(included);
      expect(metered).toBe(total - included);
      for (const handle of [first, second]) {
        expect((await getRecord(handle, idOf())).quantity).toBe(total - included);
        await expect(handle.listAllowanceCounters(customerKey(licenseIdentity(1)))).resolves.toEqual([
          { customerKey: customerKey(licenseIdentity(1)), allowanceDimension: 'api_calls', periodStart: hour(0), used: total },
        ]);
      }
    });

    it('applies one batch written through both handles at once exactly once', async () => {
      const [first, second] = await handles();
      const uses = [includedUse({ quantity: 15, included: 10 })];
      const results = await Promise.all([first, second, first, second].map((handle) => handle.addUsageAboveIncluded([], uses, 'same-batch')));
      expect(results.filter((result) => result.applied !== false)).toHaveLength(1);
      expect((await getRecord(second, idOf())).quantity).toBe(5);
    });

    it('keeps the newest set whatever order concurrent writers store them in', async () => {
      const [first, second] = await handles();
      const order = [3, 7, 1, 8, 5, 2, 6, 4];
      const sets = order.map((n) => entitlementSet({ fetchedAt: T0 + n, entitlements: [{ dimension: 'seats', value: n, valueType: 'integer' }] }));
      const applied = await Promise.all(sets.map((set, i) => (i % 2 === 0 ? first : second).putEntitlements(set)));
      expect(applied[order.indexOf(8)]).toBe(true);
      for (const handle of [first, second]) {
        await expect(handle.getEntitlements(sets[0]!.customerKey)).resolves.toEqual(sets[order.indexOf(8)]);
      }
    });
  });
}
