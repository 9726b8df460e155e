import fc from 'fast-check';
import { startEmulator, type Emulator, type Subscription } from '@meterkit/emulator';
import {
  createMetering,
  customerKey,
  parseEventBridgeEvent,
  silentLogger,
  type CustomerRecord,
  type LifecycleEvent,
  type Metering,
  type UsageStore,
} from '@meterkit/core';

// Shared by every store's tests: lifecycle events and a registration racing through several Metering instances
// on one backing store, the store's customer reads and writes interleaved by fast-check's scheduler.

const PRODUCT = 'prod-race';
const START = Date.parse('2026-07-15T10:20:00Z');

export interface LifecycleRaceOptions {
  /** Opens nothing: returns `count` unopened handles on one fresh backing store (the same object when it has no other). */
  readonly handles: (count: number) => Promise<UsageStore[]>;
  /** Metering instances sharing the store. Default 3. */
  readonly instances?: number;
  /** Property runs. Default 40. */
  readonly runs?: number;
}

/** One run's deliveries: which instance applies what. */
interface Placement {
  readonly updated: number;
  readonly deprovisioned: number;
  readonly redelivered: number;
  readonly registration: number;
  /** Which of the two events is delivered a second time. */
  readonly redelivery: 'updated' | 'deprovisioned';
}

type Gate = <T>(label: string, call: () => Promise<T>) => Promise<T>;

/** Customer reads and writes of the current run wait for its scheduler; everything else passes straight through. */
function scheduledStore(store: UsageStore, scheduler: () => fc.Scheduler | undefined): UsageStore {
  return gatedStore(store, (label, call) => {
    const s = scheduler();
    return s === undefined ? call() : s.schedule(Promise.resolve(label), label).then(call);
  });
}

/** The store, its customer reads and writes going through `gate`; closing is left to the test. */
function gatedStore(store: UsageStore, gate: Gate): UsageStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'close') return async () => undefined;
      if (property === 'getCustomer' || property === 'putCustomer') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => gate(String(property), () => method.apply(target, args));
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function licenseEvent(detailType: string, id: string, time: number, subscription: Subscription): LifecycleEvent {
  return parseEventBridgeEvent({
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.agreement-marketplace',
    account: '111111111111',
    time: new Date(time).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      agreement: { id: subscription.agreementId },
      product: { code: subscription.productCode },
      license: { arn: subscription.licenseArn },
      acceptor: { accountId: subscription.accountId },
    },
  });
}

/**
 * What the invariant compares: what lifecycle events and registration decide. An event older than the state is
 * ignored whole, so the side fields of a reordered older event (agreementStatus, its remembered id) depend on
 * arrival order even when events arrive one by one: they are left out.
 */
function projection(customer: CustomerRecord | undefined): unknown {
  if (customer === undefined) return undefined;
  return {
    identity: customer.identity,
    status: customer.status,
    agreementId: customer.agreementId,
    finalUsageDeadline: customer.finalUsageDeadline,
    lastEventAt: customer.lastEventAt,
    region: customer.region,
  };
}

function meteringOn(store: UsageStore | 'memory', emu: Emulator): Metering {
  return createMetering({
    products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }],
    store,
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    zeroHours: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
}

/**
 * Invariant: whatever the interleaving of License Updated (older), License Deprovisioned (newer), a redelivery of one
 * of them and a registration, across instances, the customer ends exactly as applying them one by one in event-time
 * order leaves it.
 */
export function describeLifecycleRace(name: string, options: LifecycleRaceOptions): void {
  const instances = options.instances ?? 3;

  describe(`lifecycle race: ${name}, ${instances} Metering instance(s) on one store`, () => {
    let emu: Emulator;
    let handles: UsageStore[] = [];
    let meterings: Metering[] = [];
    let reference: Metering;
    let current: fc.Scheduler | undefined;
    let run = 0;

    beforeEach(async () => {
      emu = await startEmulator({ now: START, products: [{ productCode: PRODUCT, dimensions: ['api_calls'], identity: 'license' }] });
      handles = await options.handles(instances);
      meterings = handles.map((handle) => meteringOn(scheduledStore(handle, () => current), emu));
      reference = meteringOn('memory', emu);
    });

    afterEach(async () => {
      current = undefined;
      for (const metering of [...meterings, reference]) await metering?.close().catch(() => undefined);
      for (const handle of new Set(handles)) await handle.close();
      await emu.close();
    });

    async function sequentially(subscription: Subscription, events: LifecycleEvent[], registered = true): Promise<unknown> {
      if (registered) await reference.resolveRegistration(subscription.token);
      for (const event of [...events].sort((a, b) => a.time - b.time)) await reference.applyLifecycleEvent(event);
      return projection(await reference.getCustomer(`license:${subscription.licenseArn}`));
    }

    const on = (index: number): Metering => meterings[index % meterings.length]!;

    async function race(placement: Placement, s: fc.Scheduler): Promise<void> {
      run += 1;
      const subscription = await emu.subscribe({ productCode: PRODUCT });
      const now = emu.clock.now();
      const updated = licenseEvent('License Updated - Manufacturer', `updated-${run}`, now - 120_000, subscription);
      const deprovisioned = licenseEvent('License Deprovisioned - Manufacturer', `deprovisioned-${run}`, now - 60_000, subscription);
      const redelivered = placement.redelivery === 'updated' ? updated : deprovisioned;
      const expected = await sequentially(subscription, [updated, deprovisioned, redelivered]);

      current = s;
      try {
        await s.waitFor(
          Promise.all([
            on(placement.updated).applyLifecycleEvent(updated),
            on(placement.deprovisioned).applyLifecycleEvent(deprovisioned),
            on(placement.redelivered).applyLifecycleEvent(redelivered),
            on(placement.registration).resolveRegistration(subscription.token),
          ]),
        );
      } finally {
        current = undefined;
      }
      const key = customerKey({ kind: 'license', licenseArn: subscription.licenseArn!, customerAwsAccountId: subscription.accountId, productCode: PRODUCT });
      for (const metering of meterings) expect(projection(await metering.getCustomer(key))).toEqual(expected);
    }

    const instance = fc.nat({ max: instances - 1 });
    const placements = fc.record({
      updated: instance,
      deprovisioned: instance,
      redelivered: instance,
      registration: instance,
      redelivery: fc.constantFrom<'updated' | 'deprovisioned'>('updated', 'deprovisioned'),
    });

    it('ends in the state of the events applied one by one in event-time order', async () => {
      await fc.assert(
        fc.asyncProperty(placements, fc.scheduler(), (placement, s) => race(placement, s)),
        { numRuns: options.runs ?? 40 },
      );
    });

    /** Runs `work` on a new instance whose first customer write waits until `meanwhile` has run in full. */
    async function heldAtFirstWrite<T>(work: (metering: Metering) => Promise<T>, meanwhile: () => Promise<unknown>): Promise<Metering> {
      let reachedWrite!: () => void;
      const writing = new Promise<void>((resolve) => (reachedWrite = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let held = false;
      const holding = meteringOn(
        gatedStore(handles[0]!, async (label, call) => {
          if (label === 'putCustomer' && !held) {
            held = true;
            reachedWrite();
            await released;
          }
          return call();
        }),
        emu,
      );
      meterings.push(holding);
      const done = work(holding);
      await Promise.race([writing, done]);
      await meanwhile();
      release();
      await done;
      return holding;
    }

    function licenseEvents(subscription: Subscription): [LifecycleEvent, LifecycleEvent] {
      const now = emu.clock.now();
      return [
        licenseEvent('License Updated - Manufacturer', 'updated', now - 120_000, subscription),
        licenseEvent('License Deprovisioned - Manufacturer', 'deprovisioned', now - 60_000, subscription),
      ];
    }

    // The shrunk counterexample, kept as is: the older License Updated read the customer, the newer License
    // Deprovisioned was applied in full on another instance, then the older one wrote what it had decided.
    it('keeps a customer deprovisioning when the older License Updated read it before the newer event wrote it', async () => {
      const subscription = await emu.subscribe({ productCode: PRODUCT });
      const [updated, deprovisioned] = licenseEvents(subscription);
      const expected = await sequentially(subscription, [updated, deprovisioned], false);
      const holding = await heldAtFirstWrite(
        (m) => m.applyLifecycleEvent(updated),
        () => on(instances - 1).applyLifecycleEvent(deprovisioned),
      );
      const customer = await holding.getCustomer(`license:${subscription.licenseArn}`);
      expect(projection(customer)).toEqual(expected);
      expect(customer).toMatchObject({ status: 'deprovisioning' });
    });

    it('never reverts a status a lifecycle event set while a registration was between its read and its write', async () => {
      const subscription = await emu.subscribe({ productCode: PRODUCT });
      const [updated, deprovisioned] = licenseEvents(subscription);
      const expected = await sequentially(subscription, [updated, deprovisioned]);
      const holding = await heldAtFirstWrite(
        (m) => m.resolveRegistration(subscription.token),
        async () => {
          await on(instances - 1).applyLifecycleEvent(updated);
          await on(instances - 1).applyLifecycleEvent(deprovisioned);
        },
      );
      expect(projection(await holding.getCustomer(`license:${subscription.licenseArn}`))).toEqual(expected);
    });

    it('links a tenant without reverting a lifecycle change applied between its read and its write', async () => {
      const subscription = await emu.subscribe({ productCode: PRODUCT });
      const [updated, deprovisioned] = licenseEvents(subscription);
      const key = `license:${subscription.licenseArn}`;
      await on(0).applyLifecycleEvent(updated);
      const holding = await heldAtFirstWrite(
        (m) => m.linkTenant(key, 'tenant-1'),
        () => on(instances - 1).applyLifecycleEvent(deprovisioned),
      );
      await expect(holding.getCustomer(key)).resolves.toMatchObject({ status: 'deprovisioning', tenantId: 'tenant-1', lastEventAt: deprovisioned.time });
    });
  });
}
