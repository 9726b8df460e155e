import fc from 'fast-check';
import { silentLogger, type Logger } from '../logger';
import { MemoryStore } from '../store/memory-store';
import { busiestWindow } from '../store/conformance/send-quota.conformance';
import { RateLimiter, SendStopped } from './rate-limiter';
import { METERING_SCOPE, SendQuota } from './send-quota';

/** One virtual time for every instance: the earliest sleeper wakes next, time jumping to when it asked to wake. */
class VirtualTime {
  time = 1_000_000;
  private sleepers: Array<{ at: number; wake: () => void }> = [];
  readonly now = (): number => this.time;
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.sleepers.push({ at: this.time + ms, wake: resolve });
      // A macrotask later, so every instance that can run now has asked to sleep first.
      setImmediate(() => {
        this.sleepers.sort((a, b) => a.at - b.at);
        const next = this.sleepers.shift()!;
        this.time = Math.max(this.time, next.at);
        next.wake();
      });
    });
}

function instance(time: VirtualTime, store: MemoryStore, perSecond: number, logger: Logger = silentLogger): SendQuota {
  return new SendQuota({
    local: new RateLimiter(perSecond, time.now, time.sleep),
    shared: store,
    scope: METERING_SCOPE,
    clock: time.now,
    sleep: time.sleep,
    logger,
    realTime: time.now,
  });
}

describe('SendQuota', () => {
  it('holds instances on one store to one budget together: ceil(r) calls in any closed window of ceil(r)/r s', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 1, max: 12, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 2, maxLength: 4 }),
        async (perSecond, callsPerInstance) => {
          const time = new VirtualTime();
          const store = new MemoryStore();
          const times: number[] = [];
          await Promise.all(
            callsPerInstance.map(async (calls) => {
              const quota = instance(time, store, perSecond);
              for (let i = 0; i < calls; i++) await quota.run(async () => times.push(time.now()));
            }),
          );
          const capacity = Math.ceil(perSecond);
          expect(times).toHaveLength(callsPerInstance.reduce((a, b) => a + b, 0));
          expect(busiestWindow(times, (capacity * 1000) / perSecond)).toBeLessThanOrEqual(capacity);
          expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(capacity);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('counts a call until its answer: arrivals at AWS, anywhere between grant and answer, never exceed ceil(r) in a second', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 1, max: 12, noNaN: true }),
        fc.array(fc.array(fc.record({ latency: fc.integer({ min: 0, max: 900 }), arrives: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 15 }), { minLength: 1, maxLength: 3 }),
        async (perSecond, instances) => {
          const time = new VirtualTime();
          const store = new MemoryStore();
          const arrivals: number[] = [];
          await Promise.all(
            instances.map(async (calls) => {
              const quota = instance(time, store, perSecond);
              for (const { latency, arrives } of calls) {
                await quota.run(async () => {
                  const sent = time.now();
                  await time.sleep(latency);
                  arrivals.push(sent + Math.round(arrives * (time.now() - sent)));
                });
              }
            }),
          );
          expect(busiestWindow(arrivals, 1000)).toBeLessThanOrEqual(Math.ceil(perSecond));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('three instances at the default 9.75/s send 120 calls together in about 12 s, never 11 in a second', async () => {
    const time = new VirtualTime();
    const store = new MemoryStore();
    const start = time.now();
    const times: number[] = [];
    await Promise.all(
      [0, 1, 2].map(async () => {
        const quota = instance(time, store, 9.75);
        for (let i = 0; i < 40; i++) await quota.run(async () => times.push(time.now()));
      }),
    );
    expect(busiestWindow(times, 1000)).toBe(10);
    expect(Math.max(...times) - start).toBeGreaterThan(11 * 1026);
    expect(Math.max(...times) - start).toBeLessThan(13 * 1026);
  });

  it('gives up a slot it waits for once the flush is out of time: the call is not made', async () => {
    const time = new VirtualTime();
    const store = new MemoryStore();
    const other = instance(time, store, 2);
    await other.run(async () => undefined);
    await other.run(async () => undefined);
    // The shared ring is full for about a second: this instance's own limit is free, the store's is not.
    const quota = instance(time, store, 2);
    let calls = 0;
    const deadline = time.now() + 300;
    await expect(quota.run(async () => calls++, () => time.now() >= deadline)).rejects.toBeInstanceOf(SendStopped);
    expect(calls).toBe(0);
    // A later call without a deadline still gets its slot.
    await quota.run(async () => calls++);
    expect(calls).toBe(1);
  });

  it('gives up a slot of its own limit it waits for once the flush is out of time', async () => {
    const time = new VirtualTime();
    const limiter = new RateLimiter(1, time.now, time.sleep);
    let calls = 0;
    await limiter.run(async () => calls++);
    const deadline = time.now() + 300;
    await expect(limiter.run(async () => calls++, () => time.now() >= deadline)).rejects.toBeInstanceOf(SendStopped);
    expect(calls).toBe(1);
  });

  it('keeps the local limit when the store cannot answer, and says so once', async () => {
    const time = new VirtualTime();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
    const failing = {
      takeSendSlot: async (): Promise<number> => Promise.reject(new Error('store down')),
      extendSendSlot: async (): Promise<void> => Promise.reject(new Error('store down')),
    };
    const quota = new SendQuota({ local: new RateLimiter(10, time.now, time.sleep), shared: failing, scope: METERING_SCOPE, clock: time.now, sleep: time.sleep, logger, realTime: time.now });
    for (let i = 0; i < 5; i++) await quota.run(async () => undefined);
    expect(warnings).toHaveLength(1);
  });

  it('turns the shared quota off when the clock option stands still for a whole window (a fixed test clock)', async () => {
    const real = new VirtualTime();
    const store = new MemoryStore();
    const fixed = () => 5_000;
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') };
    const quota = new SendQuota({ local: new RateLimiter(2, real.now, real.sleep), shared: store, scope: METERING_SCOPE, clock: fixed, sleep: real.sleep, logger, realTime: real.now });
    for (let i = 0; i < 6; i++) await quota.run(async () => undefined);
    expect(warnings).toEqual([expect.stringContaining('stood still')]);
  });
});
