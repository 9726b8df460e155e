import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMetering, isMeterkitError, MemoryStore, silentLogger, type MeteringOptions } from '../src';
import { busiestWindow, flushTogether, QUOTA_PRODUCT } from './support/shared-quota';
import { HOUR_CLOSED, identityOf, meteringOptionsFor, startProductEmulator } from '../../../tools/testing/emulator-world/emulator-world';

// Three engines on one SQLite file share one send quota: the emulator never sees more calls in a second than one
// instance may make. 7.5/s is 8 calls per 1067 ms: the 67 ms left in each window absorb the time between a slot's
// grant and the call's arrival at the emulator, on a busy machine too.
const PER_SECOND = 7.5;
const CAPACITY = 8;

describe('one send quota for several instances on one SQLite file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-quota-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('three engines flushing at once never put more than the budget into any sliding second of the emulator', async () => {
    const file = path.join(dir, 'meterkit.db');
    const run = await flushTogether(3, 150, () => ({ store: `sqlite:${file}`, requestsPerSecond: PER_SECOND }));
    expect(run.records).toBe(1500);
    expect(run.reports.reduce((sum, report) => sum + report.sent, 0)).toBe(1500);
    // The engines really sent side by side: at least two of them made calls.
    expect(run.reports.filter((report) => report.calls > 0).length).toBeGreaterThanOrEqual(2);
    expect(run.callTimes).toHaveLength(60);
    expect(busiestWindow(run.callTimes, 1000)).toBeLessThanOrEqual(CAPACITY);
  }, 120_000);
});

describe('sharedQuota', () => {
  const options = (overrides: Partial<MeteringOptions>): MeteringOptions => ({ products: [QUOTA_PRODUCT], logger: silentLogger, autoStart: false, ...overrides });
  const codeOf = (create: () => unknown): string | undefined => {
    try {
      create();
      return undefined;
    } catch (error) {
      return isMeterkitError(error) ? error.code : String(error);
    }
  };

  it('refuses true with a store that keeps no send slots, and anything but a boolean', () => {
    const withoutSlots = Object.assign(new MemoryStore(), { takeSendSlot: undefined, extendSendSlot: undefined });
    expect(codeOf(() => createMetering(options({ store: withoutSlots, sharedQuota: true })))).toBe('ERR_METERKIT_OPTIONS');
    expect(codeOf(() => createMetering(options({ store: 'memory', sharedQuota: 'yes' as unknown as boolean })))).toBe('ERR_METERKIT_OPTIONS');
  });

  it('leaves a store without send slots to each instance\'s own limit when unset or false', async () => {
    for (const sharedQuota of [undefined, false]) {
      const withoutSlots = Object.assign(new MemoryStore(), { takeSendSlot: undefined, extendSendSlot: undefined });
      const metering = createMetering(options({ store: withoutSlots, ...(sharedQuota === undefined ? {} : { sharedQuota }) }));
      await metering.close();
    }
  });
});

describe('a flush out of time while a call waits for its send slot', () => {
  /** A memory store that counts the slots it refused. */
  class CountingStore extends MemoryStore {
    refused = 0;
    override async takeSendSlot(scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
      const wait = await super.takeSendSlot(scope, now, capacity, windowMs);
      if (wait > 0) this.refused++;
      return wait;
    }
  }

  it('hands the batch back unsent instead of calling after its time', async () => {
    const store = new CountingStore();
    const run = await flushTogetherOnce(store);
    expect(run.calls).toBe(0);
    expect(run.report.calls).toBe(0);
    expect(run.report.released).toBe(25);
    expect(store.refused).toBeGreaterThan(0);
  }, 60_000);

  /** Another instance took every slot of the window just now; the flush runs out of time once it is refused one. */
  async function flushTogetherOnce(store: CountingStore) {
    const emu = await startProductEmulator([QUOTA_PRODUCT]);
    const metering = createMetering(meteringOptionsFor(emu, [QUOTA_PRODUCT], { store }));
    try {
      // 25 records: one BatchMeterUsage call.
      for (let b = 0; b < 5; b++) {
        const meter = metering.meter(identityOf(await emu.subscribe({ productCode: QUOTA_PRODUCT.productCode })));
        for (const dimension of QUOTA_PRODUCT.dimensions.slice(0, 5)) meter.record(dimension);
        await meter.commit();
      }
      await metering.persist();
      emu.clock.set(HOUR_CLOSED);
      for (let i = 0; i < 10; i++) expect(await store.takeSendSlot('metering', emu.clock.now(), 10, 1026)).toBe(0);
      const report = await metering.flush({ outOfTime: () => store.refused > 0 });
      return { report, calls: emu.inspect.calls('BatchMeterUsage').length };
    } finally {
      await metering.close();
      await emu.close();
    }
  }
});
