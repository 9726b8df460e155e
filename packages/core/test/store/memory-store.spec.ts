import { isMeterkitError, ErrorCodes } from '../../src/errors';
import { MemoryStore } from '../../src/store/memory-store';
import { describeUsageStoreConformance } from '../../src/testing';
import { claimRequest, delta, hour, licenseIdentity } from '../../src/store/conformance/fixtures';
import { compareKeys } from '../../src/store/frozen-usage';
import { turnsDuring } from '../support/event-loop-turns';

// The store's key comparisons, counted (the claim test below measures its work in comparisons, not in time).
jest.mock('../../src/store/frozen-usage', () => {
  const actual = jest.requireActual<typeof import('../../src/store/frozen-usage')>('../../src/store/frozen-usage');
  return { ...actual, compareKeys: jest.fn(actual.compareKeys) };
});

describeUsageStoreConformance('MemoryStore', () => new MemoryStore(), {
  sharedStoreFactory: async () => {
    const store = new MemoryStore();
    return [store, store];
  },
});

describe('MemoryStore', () => {
  it('is not durable', () => {
    const store = new MemoryStore();
    expect(store.kind).toBe('memory');
    expect(store.durable).toBe(false);
  });

  it('stores none of a batch holding a quantity no store can keep', async () => {
    const store = new MemoryStore();
    await store.open();
    await store.addUsage([delta({ quantity: 1 })]);
    for (const quantity of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await store
        .addUsage([delta({ quantity: 2 }), delta({ quantity, hour: hour(1) })])
        .catch((e: unknown) => e);
      expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
    }
    expect((await store.listRecords()).map((record) => record.quantity)).toEqual([1]);
  });
});

describe('MemoryStore: claims in slices', () => {
  const CUSTOMERS = 5_000;
  async function storeWithDueRecords(): Promise<MemoryStore> {
    const store = new MemoryStore();
    await store.open();
    const deltas = Array.from({ length: CUSTOMERS }, (_, i) => delta({ customer: licenseIdentity(i + 1), hour: hour(0), quantity: 1 }));
    await store.addUsage(deltas);
    return store;
  }

  it('yields to the event loop while freezing many due records', async () => {
    const store = await storeWithDueRecords();
    // A macrotask queued before the claim runs before it ends only if the claim yields to the event loop.
    let turned = false;
    setImmediate(() => (turned = true));
    const claimed = await store.claim(claimRequest({ limit: 10 }));
    expect(turned).toBe(true);
    expect(claimed).toHaveLength(10);
  });

  it('freezes 500 records between two turns of the event loop', async () => {
    const store = await storeWithDueRecords();
    const { value: claimed, turns } = await turnsDuring(() => store.claim(claimRequest({ limit: 10 })));
    expect(claimed).toHaveLength(10);
    expect(turns).toBeGreaterThanOrEqual(CUSTOMERS / 500 - 1);
  });

  it('picks a claim from the pending records in work that grows with the limit, not with the pending records', async () => {
    /** Key comparisons made by a claim of 10 among `records` pending records of one hour (ordered by id). */
    async function comparisonsOfClaim(records: number): Promise<number> {
      const store = new MemoryStore();
      await store.open();
      await store.addUsage(Array.from({ length: records }, (_, i) => delta({ customer: licenseIdentity(i + 1), hour: hour(0) })));
      await store.claim(claimRequest({ limit: 0 }));
      const compare = jest.mocked(compareKeys);
      compare.mockClear();
      expect(await store.claim(claimRequest({ limit: 10 }))).toHaveLength(10);
      return compare.mock.calls.length;
    }
    const few = await comparisonsOfClaim(500);
    const many = await comparisonsOfClaim(20_000);
    // A pass over the pending records makes about one comparison per record: 40 times as many for 40 times the
    // records. Taking the first 10 from a heap makes about 2 log2(n) per record taken.
    expect(many).toBeLessThan(3 * few);
    expect(many).toBeLessThan(1_000);
  });

  it('leases each record once to claims interleaved with usage reaching the records being frozen', async () => {
    const store = await storeWithDueRecords();
    const first = store.claim(claimRequest({ owner: 'worker-a', limit: 3_000 }));
    const second = store.claim(claimRequest({ owner: 'worker-b', limit: 3_000 }));
    // Arrives while the claims freeze: counted once, frozen with its record or late.
    const late = store.addUsage(Array.from({ length: CUSTOMERS }, (_, i) => delta({ customer: licenseIdentity(i + 1), hour: hour(0), quantity: 2 })));
    const [a, b, added] = await Promise.all([first, second, late]);
    const ids = [...a, ...b].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(CUSTOMERS);
    const records = await store.listRecords();
    expect(records.every((r) => r.quantity === 3)).toBe(true);
    const frozen = records.reduce((sum, r) => sum + r.frozen!.quantity, 0);
    expect(frozen + added.late.reduce((sum, d) => sum + d.quantity, 0)).toBe(3 * CUSTOMERS);
  });
});

