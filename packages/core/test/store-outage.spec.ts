import { MemoryStore, type UsageStore } from '../src';
import { startWorld, type World } from './support/world';

/** A real store that can be taken down: every call fails while `down` is set. */
function outageStore(): { store: UsageStore; setDown(down: boolean): void } {
  const inner = new MemoryStore();
  let down = false;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'open' || property === 'close') return value;
      return (...args: unknown[]) => (down ? Promise.reject(new Error('connection refused')) : value.apply(target, args));
    },
  });
  return { store, setDown: (value) => (down = value) };
}

/** A real store whose next write is applied and then reported as failed, as when a connection drops after COMMIT. */
function lostAnswerStore(): { store: UsageStore; loseNextAnswer(): void } {
  const inner = new MemoryStore();
  let lose = false;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'addUsage') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<UsageStore['addUsage']>) => {
        const result = await inner.addUsage(...args);
        if (!lose) return result;
        lose = false;
        throw new Error('connection terminated unexpectedly');
      };
    },
  });
  return { store, loseNextAnswer: () => (lose = true) };
}

describe('a store outage (fail open)', () => {
  let world: World;
  afterEach(() => world.close());

  it('keeps metering known tenants and customers, holds usage in memory, reports the outage, and bills exactly once back', async () => {
    const outage = outageStore();
    world = await startWorld({ store: outage.store, tenantCacheMs: 1000 });
    const { metering, emu } = world;
    const { token } = await emu.subscribe({ productCode: 'prod-licensed' });
    const customer = await metering.resolveRegistration(token);
    await metering.linkTenant(customer.key, 'tenant-1');
    await (await metering.meterFor('tenant-1')).record('api_calls', 2).commit();
    await metering.persist();

    outage.setDown(true);
    emu.clock.advance(5_000);
    await (await metering.meterFor('tenant-1')).record('api_calls', 3).commit();
    await (await metering.meterFor(customer.identity)).record('api_calls', 4).commit();
    await expect(metering.meterFor('tenant-never-seen')).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    await expect(metering.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    const during = await metering.status();
    expect(during.storeError?.code).toBe('ERR_METERKIT_STORE');
    expect(during.persistError?.code).toBe('ERR_METERKIT_STORE');
    expect(during.inMemory).toBe(1);

    outage.setDown(false);
    world.setTime('2026-07-15T11:30:00Z');
    await metering.flush();
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(9);
    const after = await metering.status();
    expect(after.storeError).toBeUndefined();
    expect(after.persistError).toBeUndefined();
    expect(after.counts.sent).toBe(1);
  });

  it('counts a write once when the store applied it but its answer was lost', async () => {
    const flaky = lostAnswerStore();
    world = await startWorld({ store: flaky.store });
    const { metering, emu } = world;
    const customer = await world.license();
    await metering.meter(customer).record('api_calls', 5).commit();
    flaky.loseNextAnswer();
    await expect(metering.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    await metering.meter(customer).record('api_calls', 2).commit();
    await metering.persist();
    expect((await metering.status()).inMemory).toBe(0);
    world.setTime('2026-07-15T11:30:00Z');
    await metering.flush();
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(7);
  });
});
