import { MeteringEmitter } from '../src/events';
import { silentLogger } from '../src/logger';
import { Aggregator } from '../src/meter/aggregator';
import type { BoundCustomer } from '../src/meter/bound-customer';
import { consumptionSources, type ConsumptionSources } from '../src/meter/included-usage';
import { Persister } from '../src/meter/persister';
import { RequestMeter, type MeterSink } from '../src/meter/request-meter';
import type { EntitlementSet } from '../src/contracts/entitlement-set';
import type { Product } from '../src/model/product';
import type { UsageDelta } from '../src/model/usage';
import type { IncludedUse } from '../src/store/entitlement-store';
import { MemoryStore } from '../src/store/memory-store';
import { RequestStoreCalls } from '../src/store/store-timeout';
import { ErrorCodes, isMeterkitError } from '../src/errors';
import { createMetering } from '../src';

const HOUR_MS = 3_600_000;
/** 2026-07-15T10:00:00Z */
const HOUR = Date.UTC(2026, 6, 15, 10);
const MONTH = Date.UTC(2026, 6, 1);

const product: Product = {
  productCode: 'prod-consumption',
  identity: 'license',
  dimensions: new Set(['api_calls', 'exports', 'storage_gb']),
  pricing: 'contract-with-consumption',
  entitlements: new Set(['api_quota', 'export_quota', 'seats']),
  included: new Map([
    ['api_calls', { dimension: 'api_calls', entitlement: 'api_quota', period: 'hour' as const }],
    ['exports', { dimension: 'exports', entitlement: 'export_quota', period: 'month' as const }],
  ]),
};

function customer(n: number): BoundCustomer {
  const licenseArn = `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`;
  return {
    identity: { kind: 'license', licenseArn, customerAwsAccountId: String(100000000000 + n), productCode: product.productCode },
    key: `license:${licenseArn}`,
    product,
  };
}

function set(who: BoundCustomer, values: Record<string, number | boolean | string>, extra: Partial<EntitlementSet> = {}): EntitlementSet {
  return {
    customerKey: who.key,
    productCode: product.productCode,
    entitlements: Object.entries(values).map(([dimension, value]) => ({
      dimension,
      value,
      valueType: typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'double') : typeof value === 'boolean' ? 'boolean' : 'string',
    })),
    fetchedAt: 1,
    trigger: 'registration',
    ...extra,
  };
}

type Fault = 'ok' | 'fail' | 'lost-answer';

/** A memory store logging every addUsage / addUsageAboveIncluded write; `script` fails or loses the answer of the next ones. */
class LoggingStore extends MemoryStore {
  readonly writes: Array<{ kind: 'plain' | 'above'; batchId: string | undefined; deltas: readonly UsageDelta[]; uses: readonly IncludedUse[] }> = [];
  script: Fault[] = [];

  override async addUsage(deltas: readonly UsageDelta[], batchId?: string) {
    this.writes.push({ kind: 'plain', batchId, deltas, uses: [] });
    return this.faulty(() => super.addUsage(deltas, batchId));
  }

  override async addUsageAboveIncluded(deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string) {
    this.writes.push({ kind: 'above', batchId, deltas, uses });
    return this.faulty(() => super.addUsageAboveIncluded(deltas, uses, batchId));
  }

  private async faulty<T>(apply: () => Promise<T>): Promise<T> {
    const fault = this.script.shift() ?? 'ok';
    if (fault === 'fail') throw new Error('connection refused');
    const result = await apply();
    if (fault === 'lost-answer') throw new Error('connection reset');
    return result;
  }

  async quantity(who: BoundCustomer, dimension: string, hour = HOUR): Promise<number | undefined> {
    return (await this.listRecords({ customerKey: who.key })).find((r) => r.dimension === dimension && r.hour === hour)?.quantity;
  }
}

interface Rig {
  store: LoggingStore;
  aggregator: Aggregator;
  persister: Persister;
  sets: Map<string, EntitlementSet>;
  reads: string[];
}

async function rig(options: { failReads?: number } = {}): Promise<Rig> {
  const store = new LoggingStore();
  await store.open();
  const aggregator = new Aggregator();
  const sets = new Map<string, EntitlementSet>();
  const reads: string[] = [];
  let failReads = options.failReads ?? 0;
  const sources = consumptionSources(new Map([[product.productCode, product]]), async (key) => {
    reads.push(key);
    if (failReads > 0) {
      failReads--;
      throw new Error('store unreachable');
    }
    return sets.get(key);
  });
  const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(10_000), 200, sources);
  return { store, aggregator, persister, sets, reads };
}

function add(r: Rig, who: BoundCustomer, dimension: string, quantity: number, hour = HOUR): void {
  r.aggregator.add(who, hour, [dimension], [quantity], undefined, 1);
}

describe('consumption: the persister meters only usage above what the entitlement includes', () => {
  it('meters the part above the entitlement, per hour, and usage of dimensions nothing includes in full', async () => {
    const r = await rig();
    const a = customer(1);
    r.sets.set(a.key, set(a, { api_quota: 100, seats: 5 }));
    add(r, a, 'api_calls', 60);
    add(r, a, 'storage_gb', 7);
    await r.persister.persist();
    expect(await r.store.quantity(a, 'api_calls')).toBeUndefined();
    expect(await r.store.quantity(a, 'storage_gb')).toBe(7);
    add(r, a, 'api_calls', 55);
    await r.persister.persist();
    expect(await r.store.quantity(a, 'api_calls')).toBe(15);
    // The next hour includes 100 again.
    add(r, a, 'api_calls', 101, HOUR + HOUR_MS);
    await r.persister.persist();
    expect(await r.store.quantity(a, 'api_calls', HOUR + HOUR_MS)).toBe(1);
    expect(r.store.writes.map((w) => w.kind)).toEqual(['above', 'above', 'above']);
    expect(r.store.writes[0]!.deltas.map((d) => d.dimension)).toEqual(['storage_gb']);
    expect(r.store.writes[0]!.uses).toEqual([
      { delta: expect.objectContaining({ dimension: 'api_calls', quantity: 60 }), allowanceDimension: 'api_quota', periodStart: HOUR, included: 100 },
    ]);
  });

  it('counts a month period across its hours, against the UTC month start', async () => {
    const r = await rig();
    const a = customer(1);
    r.sets.set(a.key, set(a, { export_quota: 10 }));
    add(r, a, 'exports', 6, MONTH);
    add(r, a, 'exports', 6, HOUR);
    await r.persister.persist();
    add(r, a, 'exports', 3, MONTH + 40 * 24 * HOUR_MS);
    await r.persister.persist();
    expect(r.store.writes[0]!.uses.map((u) => u.periodStart)).toEqual([MONTH, MONTH]);
    expect(await r.store.quantity(a, 'exports', MONTH)).toBeUndefined();
    expect(await r.store.quantity(a, 'exports', HOUR)).toBe(2);
    // August has its own 10.
    expect(await r.store.quantity(a, 'exports', MONTH + 40 * 24 * HOUR_MS)).toBeUndefined();
    expect((await r.store.listAllowanceCounters(a.key)).map((c) => [c.periodStart, c.used])).toEqual([
      [Date.UTC(2026, 7, 1), 3],
      [MONTH, 12],
    ]);
  });

  it('includes nothing for a customer without a set, with a revoked set, or with a non-numeric value: everything is metered', async () => {
    const r = await rig();
    const [none, revoked, text, flag] = [customer(1), customer(2), customer(3), customer(4)];
    r.sets.set(revoked.key, set(revoked, {}, { revoked: true }));
    r.sets.set(text.key, set(text, { api_quota: '100' }));
    r.sets.set(flag.key, set(flag, { api_quota: true }));
    for (const who of [none, revoked, text, flag]) add(r, who, 'api_calls', 9);
    await r.persister.persist();
    for (const who of [none, revoked, text, flag]) expect(await r.store.quantity(who, 'api_calls')).toBe(9);
    expect(r.store.writes[0]!.uses.map((u) => u.included)).toEqual([0, 0, 0, 0]);
  });

  it('includes whole units: a fractional entitlement value includes the unit it partly covers', async () => {
    const r = await rig();
    const a = customer(1);
    r.sets.set(a.key, set(a, { api_quota: 10.5 }));
    add(r, a, 'api_calls', 12);
    await r.persister.persist();
    expect(r.store.writes[0]!.uses[0]!.included).toBe(11);
    expect(await r.store.quantity(a, 'api_calls')).toBe(1);
  });

  it('reads each customer\'s set once per batch', async () => {
    const r = await rig();
    const [a, b] = [customer(1), customer(2)];
    add(r, a, 'api_calls', 1);
    add(r, a, 'exports', 1);
    add(r, b, 'api_calls', 1);
    add(r, b, 'storage_gb', 1);
    await r.persister.persist();
    expect(r.reads.sort()).toEqual([a.key, b.key].sort());
  });

  it('retries a batch whose answer was lost under its id with the included amounts it was first written with', async () => {
    const r = await rig();
    const a = customer(1);
    r.sets.set(a.key, set(a, { api_quota: 10 }));
    add(r, a, 'api_calls', 15);
    r.store.script = ['lost-answer'];
    await expect(r.persister.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    // The entitlement is raised before the retry: the batch already in the store must not be measured again.
    r.sets.set(a.key, set(a, { api_quota: 50 }, { fetchedAt: 2 }));
    await r.persister.persist();
    const [first, retry] = r.store.writes;
    expect(retry!.batchId).toBe(first!.batchId);
    expect(retry!.uses).toEqual(first!.uses);
    expect(await r.store.quantity(a, 'api_calls')).toBe(5);
    expect((await r.store.listAllowanceCounters(a.key))[0]!.used).toBe(15);
    // Newer usage is measured against the raised entitlement: 15 + 30 = 45 of 50, nothing more metered.
    add(r, a, 'api_calls', 30);
    await r.persister.persist();
    expect(r.store.writes[2]!.uses[0]!.included).toBe(50);
    expect(await r.store.quantity(a, 'api_calls')).toBe(5);
  });

  it('retries a batch whose entitlement read failed, reading again, before newer usage', async () => {
    const r = await rig({ failReads: 1 });
    const a = customer(1);
    r.sets.set(a.key, set(a, { api_quota: 10 }));
    add(r, a, 'api_calls', 12);
    await expect(r.persister.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    expect(r.store.writes).toEqual([]);
    expect(r.persister.pending).toBe(1);
    add(r, a, 'api_calls', 3);
    await r.persister.persist();
    expect(r.store.writes.map((w) => w.uses.map((u) => u.delta.quantity))).toEqual([[12], [3]]);
    expect(await r.store.quantity(a, 'api_calls')).toBe(5);
  });

  it('writes batches without included usage with addUsage, as for subscriptions', async () => {
    const r = await rig();
    add(r, customer(1), 'storage_gb', 4);
    await r.persister.persist();
    expect(r.store.writes.map((w) => w.kind)).toEqual(['plain']);
  });

  it('refuses a store that cannot count allowances, keeping the usage to retry', async () => {
    const store = new MemoryStore();
    await store.open();
    const plainStore = Object.assign(Object.create(store) as MemoryStore, { addUsageAboveIncluded: undefined });
    const aggregator = new Aggregator();
    const sources: ConsumptionSources = { included: (code, dimension) => product.included?.get(dimension), entitlementsOf: async () => undefined };
    const persister = new Persister(aggregator, plainStore, new MeteringEmitter(), silentLogger, new RequestStoreCalls(10_000), 200, sources);
    aggregator.add(customer(1), HOUR, ['api_calls'], [1], undefined, 1);
    await expect(persister.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE', message: expect.stringContaining('EntitlementStore') });
    expect(persister.pending).toBe(1);
  });

  it('needs no sources when no product includes usage', () => {
    const subscription: Product = { productCode: 'prod-sub', identity: 'license', dimensions: new Set(['api_calls']) };
    expect(consumptionSources(new Map([['prod-sub', subscription]]), async () => undefined)).toBeUndefined();
  });
});

describe('consumption: record() on a dimension an entitlement includes', () => {
  const sink: MeterSink = { commit: async () => undefined };

  it('refuses tags with ERR_METERKIT_INVALID_TAGS: the part above the entitlement cannot be split by tags', () => {
    const meter = new RequestMeter(sink, customer(1), HOUR);
    let error: unknown;
    try {
      meter.record('api_calls', 3, { tags: { team: 'blue' } });
    } catch (e) {
      error = e;
    }
    expect(isMeterkitError(error, ErrorCodes.INVALID_TAGS)).toBe(true);
    expect((error as Error).message).toContain('api_quota');
    expect((error as Error).message).toContain('cannot be split by tags');
    expect(meter.pending).toBe(0);
  });

  it('takes untagged usage of it, and tagged usage of dimensions nothing includes', () => {
    const meter = new RequestMeter(sink, customer(1), HOUR);
    meter.record('api_calls', 3).record('storage_gb', 2, { tags: { team: 'blue' } });
    expect(meter.pending).toBe(2);
  });
});

describe('consumption: setTotal() on a dimension an entitlement includes', () => {
  it('is refused, storing nothing: a finalized total cannot be measured against the entitlement, it would bill included usage', async () => {
    const metering = createMetering({
      products: [
        {
          productCode: product.productCode,
          dimensions: [...product.dimensions],
          pricing: 'contract-with-consumption',
          entitlements: ['api_quota', 'export_quota', 'seats'],
          included: { api_calls: { entitlement: 'api_quota' }, exports: { entitlement: 'export_quota', period: 'month' } },
        },
      ],
      store: 'memory',
      logger: silentLogger,
      autoStart: false,
      clock: () => HOUR + 2 * HOUR_MS,
      aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    try {
      const identity = customer(1).identity;
      const error = await metering.setTotal({ customer: identity, dimension: 'api_calls', hour: HOUR, quantity: 40 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMeterkitError(error, ErrorCodes.UNKNOWN_DIMENSION)).toBe(true);
      expect((error as Error).message).toContain('api_quota');
      expect(await metering.store.listRecords()).toEqual([]);
      // Dimensions nothing includes still take totals.
      await metering.setTotal({ customer: identity, dimension: 'storage_gb', hour: HOUR, quantity: 4 });
      expect((await metering.store.listRecords()).map((r) => [r.dimension, r.quantity])).toEqual([['storage_gb', 4]]);
    } finally {
      await metering.close();
    }
  });
});
