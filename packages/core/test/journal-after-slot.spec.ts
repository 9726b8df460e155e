import { BatchMeterUsageCommand, MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import type { Emulator } from '@meterkit/emulator';
import { createMetering, MemoryStore, type CustomerIdentity, type FlushReport, type Metering, type ProductConfig, type UsageStore } from '../src';
import { HOUR_CLOSED, identityOf, meteringOptionsFor, START, startProductEmulator, TEST_CREDENTIALS } from '../../../tools/testing/emulator-world/emulator-world';

/**
 * A record is journaled (marked as possibly at AWS) only once its call holds a send slot and goes on the wire:
 * not while the call waits for the slot. Another instance took every slot of the window, so the flush waits.
 */

const SAAS: ProductConfig = { productCode: 'prod-journal', dimensions: ['api_calls'] };
const AMI: ProductConfig = { productCode: 'prod-journal-ami', dimensions: ['api_calls'], identity: 'product' };
const LEASE_MS = 60_000;
/** 10 calls per 1000 ms. */
const PER_SECOND = 10;
const QUANTITY = 3;

type Operation = 'BatchMeterUsage' | 'MeterUsage';

/**
 * A handle on a store shared by instances, as each app instance holds one; `onRefused` runs each time the store
 * refuses this handle a send slot (the call waits), before the refusal is answered.
 */
function handle(shared: MemoryStore, onRefused?: () => Promise<void>): UsageStore {
  return new Proxy(shared, {
    get(store, property, receiver) {
      if (property === 'close') return async () => undefined;
      if (property === 'takeSendSlot' && onRefused !== undefined) {
        return async (scope: string, now: number, capacity: number, windowMs: number) => {
          const waitMs = await store.takeSendSlot(scope, now, capacity, windowMs);
          if (waitMs > 0) await onRefused();
          return waitMs;
        };
      }
      const value: unknown = Reflect.get(store, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store) : value;
    },
  });
}

interface World {
  readonly emu: Emulator;
  readonly shared: MemoryStore;
  readonly buyer: CustomerIdentity;
  engine(onRefused?: () => Promise<void>): Metering;
  /** The 10:00 hour's usage of the buyer (BatchMeterUsage) or of the product (MeterUsage), persisted. */
  meter(operation: Operation): Promise<void>;
  /** The hour is closed; another instance just took every send slot of the window. */
  slotsTaken(): Promise<void>;
  billed(): number;
}

const worlds: Array<{ emu: Emulator; engines: Metering[]; abandoned: Set<Metering> }> = [];

async function world(): Promise<World> {
  const emu = await startProductEmulator([SAAS, AMI]);
  const shared = new MemoryStore();
  const engines: Metering[] = [];
  const abandoned = new Set<Metering>();
  worlds.push({ emu, engines, abandoned });
  const subscription = await emu.subscribe({ productCode: SAAS.productCode });
  const buyer = identityOf(subscription);
  const engine = (onRefused?: () => Promise<void>): Metering => {
    const metering = createMetering(meteringOptionsFor(emu, [SAAS, AMI], { store: handle(shared, onRefused), leaseMs: LEASE_MS, requestsPerSecond: PER_SECOND }));
    engines.push(metering);
    return metering;
  };
  return {
    emu,
    shared,
    buyer,
    engine,
    async meter(operation) {
      emu.clock.set(START);
      const recorder = engine();
      const meter = operation === 'MeterUsage' ? recorder.productMeter() : recorder.meter(buyer);
      await meter.record('api_calls', QUANTITY).commit();
      await recorder.persist();
    },
    async slotsTaken() {
      emu.clock.set(HOUR_CLOSED);
      for (let i = 0; i < PER_SECOND; i++) expect(await shared.takeSendSlot('metering', emu.clock.now(), PER_SECOND, 1000)).toBe(0);
    },
    billed: () => emu.inspect.records().reduce((sum, record) => sum + record.quantity, 0),
  };
}

afterEach(async () => {
  for (const { emu, engines, abandoned } of worlds.splice(0)) {
    for (const metering of engines) if (!abandoned.has(metering)) await metering.close();
    await emu.close();
  }
});

describe.each<Operation>(['BatchMeterUsage', 'MeterUsage'])('%s: the journal is written once the call holds its send slot', (operation) => {
  it('a record whose call waits for its slot is not journaled yet; it is journaled, sent and settled once the slot is granted', async () => {
    const w = await world();
    await w.meter(operation);
    await w.slotsTaken();
    const whileWaiting: Array<{ mayHaveLanded: boolean; attempts: number }> = [];
    const sender = w.engine(async () => {
      if (whileWaiting.length > 0) return;
      for (const record of await w.shared.listRecords({ states: ['sending'] })) whileWaiting.push({ mayHaveLanded: record.mayHaveLanded, attempts: record.attempts });
      // The window passes: the next take is granted.
      w.emu.clock.advance(2_000);
    });
    const report = await sender.flush();
    expect(whileWaiting).toEqual([{ mayHaveLanded: false, attempts: 0 }]);
    expect(report).toMatchObject({ claimed: 1, calls: 1, sent: 1 });
    expect(w.emu.inspect.calls(operation)).toHaveLength(1);
    expect(w.billed()).toBe(QUANTITY);
    const [record] = await w.shared.listRecords();
    expect(record).toMatchObject({ state: 'sent', attempts: 1, mayHaveLanded: true });
  });

  it('a call whose lease ran out while it waited for its slot is not made, nor counted: the instance that took the record over sends it once', async () => {
    const w = await world();
    await w.meter(operation);
    await w.slotsTaken();
    let takeover: FlushReport | undefined;
    const waiting = w.engine(async () => {
      if (takeover !== undefined) return;
      // The wait outlasts the lease: another instance claims the record and sends it.
      w.emu.clock.advance(LEASE_MS + 2_000);
      takeover = await w.engine().flush();
    });
    const report = await waiting.flush();
    expect(takeover).toMatchObject({ claimed: 1, calls: 1, sent: 1 });
    expect(report).toMatchObject({ claimed: 1, calls: 0, sent: 0, duplicate: 0 });
    expect(w.emu.inspect.calls(operation)).toHaveLength(1);
    expect(w.billed()).toBe(QUANTITY);
    const [record] = await w.shared.listRecords();
    expect(record).toMatchObject({ state: 'sent', attempts: 1 });
  });
});

describe('BatchMeterUsage: an instance that dies while its call waits for a send slot', () => {
  it('leaves nothing journaled: the next instance reports a conflicting prior record as duplicate, not as its own resend', async () => {
    const w = await world();
    await w.meter('BatchMeterUsage');
    // Another deployment already reported another quantity for the buyer's hour.
    const seeder = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: w.emu.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const identity = w.buyer as Extract<CustomerIdentity, { kind: 'license' }>;
    const seeded = await seeder.send(
      new BatchMeterUsageCommand({
        UsageRecords: [{ Timestamp: new Date(Date.parse('2026-07-15T10:00:00Z')), Dimension: 'api_calls', Quantity: QUANTITY + 4, LicenseArn: identity.licenseArn, CustomerAWSAccountId: identity.customerAwsAccountId }],
      }),
    );
    expect(seeded.Results?.[0]?.Status).toBe('Success');
    seeder.destroy();
    await w.slotsTaken();

    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    const dying = w.engine(async () => {
      died();
      // The process is gone: its call never leaves the slot wait.
      await new Promise<never>(() => undefined);
    });
    void dying.flush();
    await dead;
    worlds[worlds.length - 1]!.abandoned.add(dying);

    w.emu.clock.advance(LEASE_MS + 2_000);
    const report = await w.engine().flush();
    expect(report).toMatchObject({ claimed: 1, calls: 1, duplicate: 1, sent: 0 });
    const [record] = await w.shared.listRecords();
    expect(record).toMatchObject({ state: 'duplicate', reason: 'DuplicateRecord' });
    expect(w.billed()).toBe(QUANTITY + 4);
  });
});
