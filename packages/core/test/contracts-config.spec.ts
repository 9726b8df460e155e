import { createMetering, ErrorCodes, includedAmount, MemoryStore, periodStart, silentLogger, type EntitlementSet, type MeteringOptions, type ProductConfig } from '../src';
import { resolveOptions } from '../src/options';
import { EntitlementCache } from '../src/contracts/entitlement-cache';
import { entitlementView } from '../src/contracts/entitlement-view';
import type { EntitlementStore } from '../src/store/entitlement-store';

const base = (products: ProductConfig[], extra: Partial<MeteringOptions> = {}): MeteringOptions => ({ products, store: 'memory', autoStart: false, logger: silentLogger, ...extra });
const product = (config: Partial<ProductConfig>) => resolveOptions(base([{ productCode: 'prod-c', dimensions: [], ...config } as ProductConfig])).products.get('prod-c')!;
const optionsError = (run: () => unknown, message: RegExp) => expect(run).toThrow(expect.objectContaining({ code: ErrorCodes.OPTIONS, message: expect.stringMatching(message) }));

describe('contract product configuration', () => {
  it('defaults to subscription pricing with no entitlements', () => {
    const p = product({ dimensions: ['api'] });
    expect(p.pricing).toBe('subscription');
    expect(p.entitlements).toBeUndefined();
    expect(p.included).toBeUndefined();
  });

  it('a contract has no metered dimensions and lists its entitlements', () => {
    const p = product({ pricing: 'contract', entitlements: ['seats', 'tier'] });
    expect(p.dimensions.size).toBe(0);
    expect([...p.entitlements!]).toEqual(['seats', 'tier']);
    optionsError(() => product({ pricing: 'contract', dimensions: ['api'] }), /contract: AWS accepts no metering records.*`dimensions` must be empty/);
  });

  it('parses included dimensions with their defaults and adds their entitlements', () => {
    const p = product({
      pricing: 'contract-with-consumption',
      dimensions: ['api_calls', 'storage', 'extra'],
      entitlements: ['seats'],
      included: { api_calls: { entitlement: 'calls', period: 'month' }, storage: {} },
    });
    expect([...p.included!.values()]).toEqual([
      { dimension: 'api_calls', entitlement: 'calls', period: 'month' },
      { dimension: 'storage', entitlement: 'storage', period: 'hour' },
    ]);
    expect([...p.entitlements!].sort()).toEqual(['calls', 'seats', 'storage']);
    expect(p.included!.has('extra')).toBe(false);
  });

  it('refuses inconsistent contract settings with ERR_METERKIT_OPTIONS', () => {
    optionsError(() => product({ pricing: 'flat' as never, dimensions: ['a'] }), /pricing must be one of/);
    optionsError(() => product({ dimensions: ['a'], entitlements: ['seats'] }), /for contract products/);
    optionsError(() => product({ pricing: 'contract', included: { a: {} } }), /included.*contract-with-consumption/);
    optionsError(() => product({ pricing: 'contract-with-consumption', dimensions: ['a'], included: { b: {} } }), /"b" is not one of its metered/);
    optionsError(() => product({ pricing: 'contract-with-consumption', dimensions: ['a'], included: { a: { period: 'day' as never } } }), /period must be one of/);
    optionsError(() => product({ pricing: 'contract', identity: 'product' }), /cannot be a contract/);
    optionsError(() => product({ pricing: 'contract-with-consumption', dimensions: [] }), /at least one dimension/);
  });

  it('validates the entitlements option and documents its defaults', () => {
    const o = resolveOptions(base([{ productCode: 'prod-a', dimensions: ['a'] }]));
    expect(o.entitlements).toMatchObject({ requestsPerSecond: 10, refreshIntervalMs: 3_600_000, cacheMs: 5000, pageSize: 25, staleRetryDelaysMs: [60_000, 120_000, 300_000, 600_000, 1_800_000] });
    optionsError(() => resolveOptions(base([{ productCode: 'prod-a', dimensions: ['a'] }], { entitlements: { pageSize: 26 } })), /pageSize must be an integer between 1 and 25/);
    optionsError(() => resolveOptions(base([{ productCode: 'prod-a', dimensions: ['a'] }], { entitlements: { staleRetryDelaysMs: [5000, 1000] } })), /ascending/);
  });

  it('a contract product needs a store that keeps entitlements', () => {
    const plain = new MemoryStore() as unknown as Record<string, unknown>;
    const withoutEntitlements = Object.create(plain, { putEntitlements: { value: undefined } });
    optionsError(() => createMetering(base([{ productCode: 'prod-c', dimensions: [], pricing: 'contract' }], { store: withoutEntitlements })), /does not keep entitlements/);
  });
});

describe('included allowance', () => {
  it('periods are the UTC hour or the UTC calendar month', () => {
    const t = Date.parse('2026-03-31T23:59:59.999Z');
    expect(new Date(periodStart('hour', t)).toISOString()).toBe('2026-03-31T23:00:00.000Z');
    expect(new Date(periodStart('month', t)).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('includes a numeric entitlement only: missing, revoked or non-numeric include nothing', () => {
    const set = (entitlements: EntitlementSet['entitlements'], revoked?: boolean): EntitlementSet => ({ customerKey: 'k', productCode: 'p', entitlements, fetchedAt: 1, trigger: 'timer', ...(revoked ? { revoked } : {}) });
    expect(includedAmount(set([{ dimension: 'calls', value: 1000, valueType: 'integer' }]), 'calls')).toBe(1000);
    expect(includedAmount(set([{ dimension: 'calls', value: 2.5, valueType: 'double' }]), 'calls')).toBe(2.5);
    expect(includedAmount(set([{ dimension: 'calls', value: true, valueType: 'boolean' }]), 'calls')).toBe(0);
    expect(includedAmount(set([{ dimension: 'seats', value: 5, valueType: 'integer' }]), 'calls')).toBe(0);
    expect(includedAmount(set([], true), 'calls')).toBe(0);
    expect(includedAmount(undefined, 'calls')).toBe(0);
  });
});

describe('EntitlementCache', () => {
  function storeWith(sets: Map<string, EntitlementSet>) {
    const store = { reads: 0, getEntitlements: async (key: string) => (store.reads++, sets.get(key)) };
    return store;
  }
  const set = (fetchedAt: number, seats: number): EntitlementSet => ({ customerKey: 'k', productCode: 'p', entitlements: [{ dimension: 'seats', value: seats, valueType: 'integer' }], fetchedAt, trigger: 'timer' });

  it('serves from memory for cacheMs after reading the store, then reads it again', async () => {
    let now = 1000;
    const sets = new Map([['k', set(1, 5)]]);
    const store = storeWith(sets);
    const cache = new EntitlementCache({ store: async () => store as unknown as EntitlementStore, clock: () => now, cacheMs: 5000 });
    expect((await cache.entitlementsOf('k'))?.entitlements[0]?.value).toBe(5);
    sets.set('k', set(2, 10));
    now += 4999;
    expect((await cache.entitlementsOf('k'))?.entitlements[0]?.value).toBe(5);
    expect(store.reads).toBe(1);
    now += 1;
    expect((await cache.entitlementsOf('k'))?.entitlements[0]?.value).toBe(10);
    expect(store.reads).toBe(2);
  });

  it('a set written here is seen at once, and a store read that began before it cannot hide it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = { getEntitlements: async () => (await gate, set(1, 5)) };
    const cache = new EntitlementCache({ store: async () => store as unknown as EntitlementStore, clock: () => 0, cacheMs: 5000 });
    const reading = cache.entitlementsOf('k');
    cache.remember(set(2, 10));
    release();
    expect((await reading)?.fetchedAt).toBe(1);
    expect((await cache.entitlementsOf('k'))?.entitlements[0]?.value).toBe(10);
  });

  it('keeps nothing when the store keeps no entitlements', async () => {
    const cache = new EntitlementCache({ store: async () => undefined, clock: () => 0, cacheMs: 5000 });
    expect(await cache.entitlementsOf('k')).toBeUndefined();
  });
});

describe('entitlementView', () => {
  const consume = product({ pricing: 'contract-with-consumption', dimensions: ['api_calls'], entitlements: ['seats', 'tier'], included: { api_calls: { entitlement: 'calls' } } });
  const hour = Date.parse('2026-07-15T10:00:00Z');
  const loaded = (entitlements: EntitlementSet['entitlements'], used?: number, revoked?: boolean) => ({
    set: { customerKey: 'k', productCode: 'prod-c', entitlements, fetchedAt: 7, trigger: 'timer', ...(revoked ? { revoked } : {}) } as EntitlementSet,
    counters: used === undefined ? [] : [{ customerKey: 'k', allowanceDimension: 'calls', periodStart: hour, used }],
  });

  it('holds a positive number, a true boolean or a non-empty string', () => {
    const view = (value: number | boolean | string) => entitlementView(consume, loaded([{ dimension: 'tier', value, valueType: 'string' }]), 'tier', hour);
    expect([view(1).within, view(0).within, view(true).within, view(false).within, view('gold').within, view('').within]).toEqual([true, false, true, false, true, false]);
    expect(entitlementView(consume, loaded([]), 'seats', hour)).toEqual({ dimension: 'seats', value: undefined, within: false, fetchedAt: 7 });
    expect(entitlementView(consume, loaded([{ dimension: 'seats', value: 3, valueType: 'integer' }], undefined, true), 'seats', hour).value).toBeUndefined();
    expect(entitlementView(consume, undefined, 'seats', hour)).toEqual({ dimension: 'seats', value: undefined, within: false });
  });

  it("an entitlement that includes usage is within while the period's usage has not used up its whole units", () => {
    const calls = (value: number, used?: number) => entitlementView(consume, loaded([{ dimension: 'calls', value, valueType: 'double' }], used), 'calls', hour);
    expect(calls(10.5)).toMatchObject({ used: 0, within: true });
    expect(calls(10.5, 10)).toMatchObject({ used: 10, within: true });
    expect(calls(10.5, 11)).toMatchObject({ used: 11, within: false });
    // A counter of another period is not this one's.
    expect(entitlementView(consume, { ...loaded([{ dimension: 'calls', value: 5, valueType: 'integer' }]), counters: [{ customerKey: 'k', allowanceDimension: 'calls', periodStart: hour - 3_600_000, used: 9 }] }, 'calls', hour)).toMatchObject({ used: 0, within: true });
  });

  it('refuses subscription products and dimensions the product does not list', () => {
    expect(() => entitlementView(product({ dimensions: ['api'] }), undefined, 'seats', hour)).toThrow(expect.objectContaining({ code: ErrorCodes.NOT_A_CONTRACT }));
    expect(() => entitlementView(consume, undefined, 'colour', hour)).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION }));
  });
});
