import { allocationRowsOf, frozenUsageFromAllocations, sameFrozenUsage } from './frozen-usage';

describe('frozenUsageFromAllocations', () => {
  it('sends untagged-only usage without allocations', () => {
    expect(frozenUsageFromAllocations([{ tagsKey: '', quantity: 4 }])).toStrictEqual({ quantity: 4, allocations: [] });
  });

  it('lists every allocation ordered by tagsKey, the untagged one without tags', () => {
    const usage = frozenUsageFromAllocations([
      { tagsKey: 'team\u0000b', tags: { team: 'b' }, quantity: 1 },
      { tagsKey: '', quantity: 2 },
      { tagsKey: 'team\u0000a', tags: { team: 'a' }, quantity: 3 },
    ]);
    expect(usage).toStrictEqual({
      quantity: 6,
      allocations: [{ quantity: 2 }, { tags: { team: 'a' }, quantity: 3 }, { tags: { team: 'b' }, quantity: 1 }],
    });
  });
  it('serializes equal tag sets to the same bytes, whatever their key order', () => {
    const a = frozenUsageFromAllocations([{ tagsKey: 'a\u00001\u0000b\u00002', tags: { a: '1', b: '2' }, quantity: 1 }]);
    const b = frozenUsageFromAllocations([{ tagsKey: 'a\u00001\u0000b\u00002', tags: { b: '2', a: '1' }, quantity: 1 }]);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('allocationRowsOf', () => {
  it('turns an empty allocation list into one untagged row and merges equal tag sets', () => {
    expect(allocationRowsOf({ quantity: 5, allocations: [] })).toStrictEqual([{ tagsKey: '', quantity: 5 }]);
    expect(
      allocationRowsOf({
        quantity: 6,
        allocations: [
          { tags: { a: '1', b: '2' }, quantity: 1 },
          { tags: { b: '2', a: '1' }, quantity: 2 },
          { quantity: 3 },
        ],
      }),
    ).toStrictEqual([
      { tagsKey: 'a\u00001\u0000b\u00002', tags: { a: '1', b: '2' }, quantity: 3 },
      { tagsKey: '', quantity: 3 },
    ]);
  });
});

describe('sameFrozenUsage', () => {
  const usage = { quantity: 3, allocations: [{ tags: { t: 'a' }, quantity: 1 }, { quantity: 2 }] };

  it('ignores the order of allocations', () => {
    expect(sameFrozenUsage(usage, { quantity: 3, allocations: [{ quantity: 2 }, { tags: { t: 'a' }, quantity: 1 }] })).toBe(true);
  });

  it('tells different quantities, tags and allocation lists apart', () => {
    expect(sameFrozenUsage(usage, { ...usage, quantity: 4 })).toBe(false);
    expect(sameFrozenUsage(usage, { quantity: 3, allocations: [{ tags: { t: 'b' }, quantity: 1 }, { quantity: 2 }] })).toBe(false);
    expect(sameFrozenUsage({ quantity: 3, allocations: [] }, { quantity: 3, allocations: [{ quantity: 3 }] })).toBe(false);
  });
});
