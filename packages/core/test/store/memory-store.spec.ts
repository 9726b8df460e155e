import { isMeterkitError, ErrorCodes } from '../../src/errors';
import { MemoryStore } from '../../src/store/memory-store';
import { describeUsageStoreConformance } from '../../src/testing';
import { delta, hour } from '../../src/store/conformance/fixtures';

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
