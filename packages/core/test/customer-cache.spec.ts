import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type Subscription } from '@meterkit/emulator';
import fc from 'fast-check';
import { createMetering, customerKey, isMeterkitError, parseEventBridgeEvent, silentLogger, type CustomerIdentity, type Metering } from '../src';
import { fuzzParameters } from './generative/run';
import { licenseEvent } from './support/license-event';
import { at, DIMENSIONS, identityOf, LICENSED } from './support/world';

/**
 * The request path's customer cache: meterFor() and tryMeter() answer a customer resolved within tenantCacheMs
 * from memory. A change applied on this instance (lifecycle event, registration, putCustomer, linkTenant) is seen
 * at once; one applied on another instance sharing the store within tenantCacheMs of the engine's clock.
 */

const CACHE_MS = 1_000;

/** The engine's clock: moves only when a test moves it. */
const clock = {
  t: at('2026-07-15T10:20:00Z'),
  now(): number {
    return clock.t;
  },
  set(t: number): void {
    clock.t = t;
  },
};

interface Cluster {
  emu: Emulator;
  instances: Metering[];
  close(): Promise<void>;
}

async function cluster(emu: Emulator, count: number, tenantCacheMs = CACHE_MS): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-cache-'));
  const instances = Array.from({ length: count }, () =>
    createMetering({
      products: [{ productCode: LICENSED, dimensions: DIMENSIONS }],
      store: `sqlite:${join(dir, 'usage.db')}`,
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      tenantCacheMs,
    }),
  );
  return {
    emu,
    instances,
    close: async () => {
      for (const m of instances) await m.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let eventIds = 0;
function parsedLicenseEvent(detailType: 'License Updated' | 'License Deprovisioned', s: Subscription, time: number) {
  return parseEventBridgeEvent(licenseEvent(detailType, `cache-event-${++eventIds}`, time, s));
}

/** What meterFor() answers: the metered customer's key, or the error code. */
async function outcome(metering: Metering, who: string | CustomerIdentity): Promise<string> {
  try {
    return `key:${(await metering.meterFor(who)).customerKey}`;
  } catch (error) {
    if (isMeterkitError(error)) return error.code;
    throw error;
  }
}

describe('customer cache on the request path', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ now: at('2026-07-15T10:20:00Z'), products: [{ productCode: LICENSED, dimensions: DIMENSIONS, identity: 'license' }] });
  });
  afterAll(() => emu.close());

  let world: Cluster | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  async function subscribedCustomer(metering: Metering, tenantId: string): Promise<{ subscription: Subscription; identity: CustomerIdentity }> {
    const subscription = await emu.subscribe({ productCode: LICENSED });
    const identity = identityOf(subscription);
    const stored = await metering.putCustomer({ identity, status: 'active' });
    await metering.linkTenant(stored.key, tenantId);
    return { subscription, identity };
  }

  it('answers a known customer without a promise, with what meterFor() answers', async () => {
    world = await cluster(emu, 1);
    const [a] = world.instances as [Metering];
    const { identity } = await subscribedCustomer(a, 'tenant-sync');
    expect(a.tryMeter('tenant-sync')).toBeUndefined();
    expect(a.tryMeter(identity)).toBeUndefined();
    const viaTenant = await a.meterFor('tenant-sync');
    const viaIdentity = await a.meterFor(identity);
    expect(a.tryMeter('tenant-sync')?.customerKey).toBe(viaTenant.customerKey);
    expect(a.tryMeter(identity)?.customerKey).toBe(viaIdentity.customerKey);
    expect(viaTenant.customerKey).toBe(customerKey(identity));
    // The meter it returns records like any other.
    await a.tryMeter('tenant-sync')!.record('api_calls', 3).commit();
    await a.persist();
    expect((await a.store.listRecords()).map((r) => r.quantity)).toEqual([3]);
  });

  it('stops metering a customer deprovisioned on another instance within tenantCacheMs of the clock, and at once on the instance that applied it', async () => {
    world = await cluster(emu, 2);
    const [a, b] = world.instances as [Metering, Metering];
    const { subscription, identity } = await subscribedCustomer(a, 'tenant-1');
    const key = customerKey(identity);
    expect(await outcome(a, 'tenant-1')).toBe(`key:${key}`);
    expect(await outcome(a, identity)).toBe(`key:${key}`);
    expect(await outcome(b, 'tenant-1')).toBe(`key:${key}`);
    expect(b.tryMeter('tenant-1')).toBeDefined();

    const appliedAt = clock.now();
    await expect(b.applyLifecycleEvent(parsedLicenseEvent('License Deprovisioned', subscription, appliedAt))).resolves.toBe('applied');
    // The instance that applied it: at once, though it had the customer cached.
    expect(b.tryMeter('tenant-1')).toBeUndefined();
    expect(await outcome(b, 'tenant-1')).toBe('ERR_METERKIT_CUSTOMER_INACTIVE');
    expect(await outcome(b, identity)).toBe('ERR_METERKIT_CUSTOMER_INACTIVE');

    // Another instance: served from its cache while the answer is younger than tenantCacheMs ...
    clock.set(appliedAt + CACHE_MS - 1);
    expect(a.tryMeter('tenant-1')?.customerKey).toBe(key);
    // ... and read again once it is not.
    clock.set(appliedAt + CACHE_MS);
    expect(a.tryMeter('tenant-1')).toBeUndefined();
    expect(a.tryMeter(identity)).toBeUndefined();
    expect(await outcome(a, 'tenant-1')).toBe('ERR_METERKIT_CUSTOMER_INACTIVE');
    expect(await outcome(a, identity)).toBe('ERR_METERKIT_CUSTOMER_INACTIVE');
    // Reactivated on the other instance: metered again within tenantCacheMs too.
    await b.applyLifecycleEvent(parsedLicenseEvent('License Updated', subscription, clock.now()));
    expect(await outcome(b, 'tenant-1')).toBe(`key:${key}`);
    clock.set(clock.now() + CACHE_MS);
    expect(await outcome(a, 'tenant-1')).toBe(`key:${key}`);
    expect(await outcome(a, identity)).toBe(`key:${key}`);
  });

  it('shares one store read among concurrent lookups of a tenant, and reads a known one again before its answer runs out while serving it', async () => {
    world = await cluster(emu, 1);
    const [a] = world.instances as [Metering];
    const { identity } = await subscribedCustomer(a, 'tenant-ahead');
    const reads = jest.spyOn(a.store, 'findCustomerByTenant');
    const t0 = clock.now();
    const meters = await Promise.all(Array.from({ length: 5 }, () => a.meterFor('tenant-ahead')));
    expect(new Set(meters.map((m) => m.customerKey))).toEqual(new Set([customerKey(identity)]));
    expect(reads).toHaveBeenCalledTimes(1);

    const settled = () => new Promise((resolve) => setImmediate(resolve));
    clock.set(t0 + CACHE_MS * 0.9 - 1);
    expect(a.tryMeter('tenant-ahead')?.customerKey).toBe(customerKey(identity));
    await settled();
    expect(reads).toHaveBeenCalledTimes(1);
    // The last tenth of tenantCacheMs: still served without a promise, and read again once in the background.
    clock.set(t0 + CACHE_MS * 0.9);
    expect(a.tryMeter('tenant-ahead')?.customerKey).toBe(customerKey(identity));
    expect(a.tryMeter('tenant-ahead')?.customerKey).toBe(customerKey(identity));
    await settled();
    expect(reads).toHaveBeenCalledTimes(2);
    // Past the first answer's end, the one read ahead serves: no request waits for the store.
    clock.set(t0 + CACHE_MS);
    expect(a.tryMeter('tenant-ahead')?.customerKey).toBe(customerKey(identity));
    await settled();
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('reads every request again with tenantCacheMs 0', async () => {
    world = await cluster(emu, 2, 0);
    const [a, b] = world.instances as [Metering, Metering];
    const { subscription } = await subscribedCustomer(a, 'tenant-0');
    await a.meterFor('tenant-0');
    expect(a.tryMeter('tenant-0')).toBeUndefined();
    await b.applyLifecycleEvent(parsedLicenseEvent('License Deprovisioned', subscription, clock.now()));
    expect(await outcome(a, 'tenant-0')).toBe('ERR_METERKIT_CUSTOMER_INACTIVE');
  });

  it('follows a tenant moved to another customer at once on the instance that moved it', async () => {
    world = await cluster(emu, 1);
    const [a] = world.instances as [Metering];
    const first = await subscribedCustomer(a, 'tenant-moved');
    const second = await subscribedCustomer(a, 'tenant-other');
    expect(await outcome(a, 'tenant-moved')).toBe(`key:${customerKey(first.identity)}`);
    expect(await outcome(a, 'tenant-other')).toBe(`key:${customerKey(second.identity)}`);
    // The latest link wins (the store picks the customer updated last): let the clock move, as it would.
    clock.set(clock.now() + 1);
    await a.linkTenant(customerKey(second.identity), 'tenant-moved');
    expect(a.tryMeter('tenant-moved')).toBeUndefined();
    expect(await outcome(a, 'tenant-moved')).toBe(`key:${customerKey(second.identity)}`);
    // The tenant the move left without a customer is not served from the cache either.
    expect(await outcome(a, 'tenant-other')).toBe('ERR_METERKIT_UNKNOWN_CUSTOMER');
  });

  /**
   * Invariant, model-based over two instances on one SQLite file: whatever meterFor() or tryMeter() answers on an
   * instance is what the registry said at some moment no earlier than tenantCacheMs ago and no earlier than the last
   * change that instance applied; and tryMeter(), when it answers, answers what meterFor() does.
   */
  it('answers within the tenantCacheMs bound across instances (model-based)', async () => {
    type Snapshot = { at: number; by: number; answers: Map<string, string> };
    interface Real {
      instances: Metering[];
      subs: Subscription[];
      identities: CustomerIdentity[];
    }
    interface Model {
      history: Snapshot[];
    }
    const TENANTS = ['t0', 't1'];
    const whoOf = (r: Real, who: number): string | CustomerIdentity => (who < TENANTS.length ? TENANTS[who]! : r.identities[who - TENANTS.length]!);
    const whoName = (who: number) => (who < TENANTS.length ? TENANTS[who]! : `identity${who - TENANTS.length}`);

    async function snapshot(r: Real, by: number): Promise<Snapshot> {
      const answers = new Map<string, string>();
      const customers = await r.instances[0]!.listCustomers();
      for (const t of TENANTS) {
        const c = await r.instances[0]!.store.findCustomerByTenant(t);
        answers.set(t, c === undefined ? 'ERR_METERKIT_UNKNOWN_CUSTOMER' : c.status === 'active' || c.status === 'registered' ? `key:${c.key}` : 'ERR_METERKIT_CUSTOMER_INACTIVE');
      }
      r.identities.forEach((identity, i) => {
        const c = customers.find((x) => x.key === customerKey(identity))!;
        answers.set(`identity${i}`, c.status === 'active' || c.status === 'registered' ? `key:${c.key}` : 'ERR_METERKIT_CUSTOMER_INACTIVE');
      });
      return { at: clock.now(), by, answers };
    }

    /** The answers allowed on `instance` now: snapshots since its own last change that were current within tenantCacheMs. */
    function allowed(m: Model, instance: number, name: string): Set<string> {
      const now = clock.now();
      let first = 0;
      m.history.forEach((s, i) => {
        if (s.by === instance) first = i;
      });
      const out = new Set<string>();
      for (let i = first; i < m.history.length; i++) {
        const next = m.history[i + 1];
        if (next === undefined || next.at > now - CACHE_MS) out.add(m.history[i]!.answers.get(name)!);
      }
      return out;
    }

    class Ask implements fc.AsyncCommand<Model, Real> {
      constructor(readonly instance: number, readonly who: number) {}
      check = () => true;
      async run(m: Model, r: Real): Promise<void> {
        const metering = r.instances[this.instance]!;
        const who = whoOf(r, this.who);
        const sync = metering.tryMeter(who);
        const answer = await outcome(metering, who);
        const ok = allowed(m, this.instance, whoName(this.who));
        expect(ok).toContain(answer);
        if (sync !== undefined) expect(answer).toBe(`key:${sync.customerKey}`);
        // Right after meterFor() answered a customer, the sync path answers the same one.
        if (answer.startsWith('key:')) expect(metering.tryMeter(who)?.customerKey).toBe(answer.slice(4));
      }
      toString = () => `ask(${this.instance}, ${whoName(this.who)})`;
    }
    class Lifecycle implements fc.AsyncCommand<Model, Real> {
      constructor(readonly instance: number, readonly customer: number, readonly kind: 'License Updated' | 'License Deprovisioned') {}
      check = () => true;
      async run(m: Model, r: Real): Promise<void> {
        clock.set(clock.now() + 1);
        await r.instances[this.instance]!.applyLifecycleEvent(parsedLicenseEvent(this.kind, r.subs[this.customer]!, clock.now()));
        m.history.push(await snapshot(r, this.instance));
      }
      toString = () => `${this.kind}(${this.instance}, c${this.customer})`;
    }
    class Link implements fc.AsyncCommand<Model, Real> {
      constructor(readonly instance: number, readonly customer: number, readonly tenant: number) {}
      check = () => true;
      async run(m: Model, r: Real): Promise<void> {
        await r.instances[this.instance]!.linkTenant(customerKey(r.identities[this.customer]!), TENANTS[this.tenant]!);
        m.history.push(await snapshot(r, this.instance));
      }
      toString = () => `link(${this.instance}, c${this.customer} -> ${TENANTS[this.tenant]})`;
    }
    class Advance implements fc.AsyncCommand<Model, Real> {
      constructor(readonly ms: number) {}
      check = () => true;
      async run(): Promise<void> {
        clock.set(clock.now() + this.ms);
      }
      toString = () => `advance(${this.ms})`;
    }

    const instance = fc.integer({ min: 0, max: 1 });
    const arbitraries = [
      fc.tuple(instance, fc.integer({ min: 0, max: 3 })).map(([i, w]) => new Ask(i, w)),
      fc.tuple(instance, fc.integer({ min: 0, max: 1 }), fc.constantFrom('License Updated' as const, 'License Deprovisioned' as const)).map(([i, c, k]) => new Lifecycle(i, c, k)),
      fc.tuple(instance, fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })).map(([i, c, t]) => new Link(i, c, t)),
      fc.constantFrom(1, CACHE_MS / 2, CACHE_MS - 1, CACHE_MS).map((ms) => new Advance(ms)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(arbitraries, { maxCommands: 30 }), async (cmds) => {
        const c = await cluster(emu, 2);
        try {
          const [a] = c.instances as [Metering, Metering];
          const subs: Subscription[] = [];
          const identities: CustomerIdentity[] = [];
          for (let i = 0; i < 2; i++) {
            const s = await subscribedCustomer(a, TENANTS[i]!);
            subs.push(s.subscription);
            identities.push(s.identity);
          }
          const real: Real = { instances: c.instances, subs, identities };
          const model: Model = { history: [await snapshot(real, 0)] };
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await c.close();
        }
      }),
      fuzzParameters(25),
    );
  });
});
