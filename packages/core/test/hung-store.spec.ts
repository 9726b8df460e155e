import fc from 'fast-check';
import { createMetering, MemoryStore, silentLogger, type Metering, type UsageStore } from '../src';
import { at, DIMENSIONS, LICENSED, startWorld, type World } from './support/world';

type Mode = 'up' | 'hold' | 'drop';

/**
 * A real store whose calls can hang. `hold`: a call waits, unanswered, until release() runs it against the store
 * (a write that lands late). `drop`: a call never answers and is never applied (a black-holed connection).
 * open() and close() are never held.
 */
function hangingStore(): { store: UsageStore; inner: MemoryStore; set(mode: Mode): void; held(): number; release(order: 'oldest' | 'newest'): Promise<void> } {
  const inner = new MemoryStore();
  let mode: Mode = 'up';
  let waiting: Array<() => Promise<void>> = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'open' || property === 'close') return value.bind(target);
      return (...args: unknown[]) => {
        if (mode === 'up') return value.apply(target, args);
        if (mode === 'drop') return new Promise(() => undefined);
        return new Promise((resolve, reject) => {
          waiting.push(() => Promise.resolve().then(() => value.apply(target, args)).then(resolve, reject));
        });
      };
    },
  });
  return {
    store,
    inner,
    set: (next) => (mode = next),
    held: () => waiting.length,
    release: async (order) => {
      const now = order === 'oldest' ? waiting : [...waiting].reverse();
      waiting = [];
      for (const run of now) await run();
    },
  };
}

async function storedTotal(store: MemoryStore): Promise<number> {
  return (await store.listRecords()).reduce((sum, record) => sum + record.quantity, 0);
}

describe('a store that hangs (storeTimeoutMs)', () => {
  let world: World;
  afterEach(() => world.close());

  for (const mode of ['hold', 'drop'] as const) {
    it(`answers every request while store calls hang (${mode}), and stores and bills the usage exactly once once it recovers`, async () => {
      const hanging = hangingStore();
      world = await startWorld({ store: hanging.store, durability: 'sync', storeTimeoutMs: 20, tenantCacheMs: 0 });
      const { metering, emu } = world;
      const { token } = await emu.subscribe({ productCode: LICENSED });
      const customer = await metering.resolveRegistration(token);
      await metering.linkTenant(customer.key, 'tenant-1');
      await (await metering.meterFor('tenant-1')).record('api_calls', 2).commit();

      hanging.set(mode);
      // Each of these resolves although the store never answers: the tenant falls back to its last known
      // customer, a sync commit resolves with its usage queued, status() reports the store error.
      await (await metering.meterFor('tenant-1')).record('api_calls', 3).commit();
      await (await metering.meterFor(customer.identity)).record('api_calls', 4).commit();
      await expect(metering.meterFor('tenant-never-seen')).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
      await expect(metering.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE', details: { timeoutMs: 20 } });
      const during = await metering.status();
      expect(during.storeError).toMatchObject({ code: 'ERR_METERKIT_STORE' });
      expect(during.persistError?.code).toBe('ERR_METERKIT_STORE');
      expect(during.inMemory).toBeGreaterThan(0);

      hanging.set('up');
      // Held writes land now, after the engine stopped waiting for them; the retries under the same ids are skipped.
      await hanging.release('newest');
      await metering.persist();
      expect(await storedTotal(hanging.inner)).toBe(9);
      const after = await metering.status();
      expect([after.storeError, after.persistError, after.inMemory]).toEqual([undefined, undefined, 0]);
      world.setTime('2026-07-15T11:30:00Z');
      await metering.flush();
      expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(9);
      expect(emu.inspect.duplicates()).toEqual([]);
    });
  }

  it('answers status() and close() within the bound when the store hangs', async () => {
    const hanging = hangingStore();
    world = await startWorld({ store: hanging.store, storeTimeoutMs: 20 });
    const customer = await world.license();
    world.metering.meter(customer).record('api_calls', 1).commit();
    hanging.set('drop');
    expect((await world.metering.status()).storeError?.message).toMatch(/did not answer within 20 ms/);
    await expect(world.metering.close()).rejects.toMatchObject({ code: 'ERR_METERKIT_NOT_PERSISTED' });
    hanging.set('up');
    await world.metering.persist();
    expect(await storedTotal(hanging.inner)).toBe(1);
    await world.metering.close();
  });

  it('bounds a slow customerForTenant the same way', async () => {
    world = await startWorld({ storeTimeoutMs: 20, customerForTenant: () => new Promise(() => undefined) });
    await expect(world.metering.meterFor('tenant-1')).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
  });

  it('validates storeTimeoutMs', () => {
    expect(() => createMetering({ products: [{ productCode: LICENSED, dimensions: DIMENSIONS }], store: 'memory', storeTimeoutMs: 0 })).toThrow(/storeTimeoutMs/);
  });
});

// Invariant: whatever the sequence of commits, persists, hangs (held or dropped calls), recoveries and late
// landings (oldest or newest first), every sync commit and status() is answered, and once the store is back and
// every held call has landed, the store holds exactly the committed usage: nothing lost, nothing counted twice.
describe('hung store, generatively', () => {
  interface Model {
    committed: number;
    mode: Mode;
  }
  interface Real {
    metering: Metering;
    hanging: ReturnType<typeof hangingStore>;
  }
  const identity = { kind: 'license', licenseArn: 'arn:aws:license-manager::123456789012:license:l-hung', customerAwsAccountId: '123456789012', productCode: LICENSED } as const;

  class Commit implements fc.AsyncCommand<Model, Real> {
    constructor(readonly quantity: number) {}
    check = () => true;
    async run(model: Model, real: Real): Promise<void> {
      await real.metering.meter(identity).record('api_calls', this.quantity).commit();
      model.committed += this.quantity;
    }
    toString = () => `commit(${this.quantity})`;
  }
  class SetMode implements fc.AsyncCommand<Model, Real> {
    constructor(readonly mode: Mode) {}
    check = () => true;
    async run(model: Model, real: Real): Promise<void> {
      real.hanging.set(this.mode);
      model.mode = this.mode;
    }
    toString = () => `store ${this.mode}`;
  }
  class Release implements fc.AsyncCommand<Model, Real> {
    constructor(readonly order: 'oldest' | 'newest') {}
    check = () => true;
    async run(_model: Model, real: Real): Promise<void> {
      await real.hanging.release(this.order);
    }
    toString = () => `release held (${this.order} first)`;
  }
  class Persist implements fc.AsyncCommand<Model, Real> {
    check = () => true;
    async run(model: Model, real: Real): Promise<void> {
      const outcome = await real.metering.persist().then(
        () => 'ok',
        () => 'failed',
      );
      if (model.mode === 'up' && real.hanging.held() === 0) expect(outcome).toBe('ok');
    }
    toString = () => 'persist';
  }
  class Status implements fc.AsyncCommand<Model, Real> {
    check = () => true;
    async run(model: Model, real: Real): Promise<void> {
      const status = await real.metering.status();
      if (model.mode !== 'up') expect(status.storeError?.code).toBe('ERR_METERKIT_STORE');
    }
    toString = () => 'status';
  }

  const commands = [
    fc.integer({ min: 1, max: 1000 }).map((q) => new Commit(q)),
    fc.constantFrom<Mode>('up', 'hold', 'drop').map((m) => new SetMode(m)),
    fc.constantFrom<'oldest' | 'newest'>('oldest', 'newest').map((o) => new Release(o)),
    fc.constant(new Persist()),
    fc.constant(new Status()),
  ];

  it('stores exactly the committed usage once the store is back', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        const hanging = hangingStore();
        const metering = createMetering({
          products: [{ productCode: LICENSED, dimensions: DIMENSIONS }],
          store: hanging.store,
          aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
          clock: () => at('2026-07-15T10:20:00Z'),
          logger: silentLogger,
          autoStart: false,
          durability: 'sync',
          storeTimeoutMs: 5,
        });
        const model: Model = { committed: 0, mode: 'up' };
        try {
          await fc.asyncModelRun(() => ({ model, real: { metering, hanging } }), cmds);
          hanging.set('up');
          await hanging.release('oldest');
          await metering.persist();
          expect((await metering.status()).inMemory).toBe(0);
          expect(await storedTotal(hanging.inner)).toBe(model.committed);
        } finally {
          hanging.set('up');
          await hanging.release('oldest');
          await metering.close().catch(() => undefined);
        }
      }),
      { numRuns: 40 },
    );
  });
});
