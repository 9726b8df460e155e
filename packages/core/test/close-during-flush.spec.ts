import { createMetering, MemoryStore, silentLogger, type CustomerIdentity, type Metering, type UsageDelta } from '../src';

const LICENSED = 'prod-close';

function licensedCustomer(n: number): CustomerIdentity {
  const account = String(100000000000 + n);
  return { kind: 'license', licenseArn: `arn:aws:license-manager::${account}:license:l-${n}`, customerAwsAccountId: account, productCode: LICENSED };
}

/** A store whose next usage write waits until the test opens it. */
class HeldWrites extends MemoryStore {
  private held: Promise<void> | undefined;
  private letWriteThrough: (() => void) | undefined;
  units = 0;

  holdNextWrite(): () => void {
    this.held = new Promise((resolve) => (this.letWriteThrough = resolve));
    return () => this.letWriteThrough?.();
  }

  override async addUsage(deltas: readonly UsageDelta[], batchId?: string): ReturnType<MemoryStore['addUsage']> {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) await held;
    const result = await super.addUsage(deltas, batchId);
    if (result.applied !== false) for (const delta of deltas) this.units += delta.quantity;
    return result;
  }
}

/** An engine without timers on `store`; its flushes find nothing due (the hour is open), so they never call AWS. */
function meteringOn(store: MemoryStore): Metering {
  return createMetering({
    products: [{ productCode: LICENSED, dimensions: ['api_calls'] }],
    store,
    logger: silentLogger,
    autoStart: false,
    clock: () => Date.parse('2026-07-15T10:20:00Z'),
    aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  });
}

describe('close() during a flush', () => {
  it('waits for a flush still in its persist step: the flush resolves, its usage is stored once', async () => {
    const store = new HeldWrites();
    const metering = meteringOn(store);
    await metering.persist();
    metering.meter(licensedCustomer(1)).record('api_calls', 3).commit();
    const release = store.holdNextWrite();
    const flushed = metering.flush();
    // close() while the flush's persist waits for the store.
    const closed = metering.close();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await expect(flushed).resolves.toMatchObject({ sent: 0 });
    await expect(closed).resolves.toBeUndefined();
    expect(store.units).toBe(3);
  });

  it('a flush called before the store is open is waited for too', async () => {
    const store = new HeldWrites();
    const metering = meteringOn(store);
    metering.meter(licensedCustomer(2)).record('api_calls', 2).commit();
    const flushed = metering.flush();
    const closed = metering.close();
    await expect(flushed).resolves.toBeDefined();
    await expect(closed).resolves.toBeUndefined();
    expect(store.units).toBe(2);
  });
});
