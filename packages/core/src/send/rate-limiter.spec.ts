import fc from 'fast-check';
import { resolveOptions } from '../options';
import { RateLimiter, sendBudget } from './rate-limiter';

/**
 * A virtual clock: sleeping advances it by the time asked plus an oversleep (a busy event loop wakes timers late).
 * The clock moves only in macrotasks, so a caller reads the time its take() resolved at.
 */
class VirtualTime {
  time = 1_000_000;
  private oversleeps: number[];

  constructor(oversleeps: readonly number[]) {
    this.oversleeps = [...oversleeps];
  }

  readonly now = (): number => this.time;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) =>
      setImmediate(() => {
        const over = this.oversleeps.shift() ?? 0;
        this.oversleeps.push(over);
        this.time += ms + over;
        resolve();
      }),
    );
}

/** Runs bursts of concurrent take() calls separated by gaps; answers when each call was let through. */
async function schedule(limiter: RateLimiter, clock: VirtualTime, bursts: ReadonlyArray<{ gap: number; calls: number }>): Promise<number[]> {
  const times: number[] = [];
  for (const { gap, calls } of bursts) {
    clock.time += gap;
    await Promise.all(Array.from({ length: calls }, () => limiter.take().then(() => times.push(clock.now()))));
  }
  return times;
}

/** The most calls in any closed interval `windowMs` long (one second by default). */
function busiestSecond(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! > windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

const bursts = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 2500 }), calls: fc.integer({ min: 1, max: 25 }) }), {
  minLength: 1,
  maxLength: 12,
});
const oversleeps = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 8 });

describe('RateLimiter', () => {
  it('never lets more than the limit into any sliding second, whatever the schedule and however late timers fire', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20 }), bursts, oversleeps, async (perSecond, plan, late) => {
        const clock = new VirtualTime(late);
        const times = await schedule(new RateLimiter(perSecond, clock.now, clock.sleep), clock, plan);
        expect(times).toHaveLength(plan.reduce((sum, b) => sum + b.calls, 0));
        expect(busiestSecond(times)).toBeLessThanOrEqual(perSecond);
      }),
      { numRuns: 200 },
    );
  });

  it('for any budget r, lets at most ceil(r) calls into any closed window of ceil(r)/r seconds and into any closed second', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.05, max: 40, noNaN: true }), bursts, oversleeps, async (perSecond, plan, late) => {
        const clock = new VirtualTime(late);
        const times = await schedule(new RateLimiter(perSecond, clock.now, clock.sleep), clock, plan);
        const capacity = Math.ceil(perSecond);
        expect(times).toHaveLength(plan.reduce((sum, b) => sum + b.calls, 0));
        expect(busiestSecond(times, (capacity * 1000) / perSecond)).toBeLessThanOrEqual(capacity);
        expect(busiestSecond(times)).toBeLessThanOrEqual(capacity);
      }),
      { numRuns: 200 },
    );
  });

  it('with a fractional budget below one, lets one call into each 1/r seconds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.05, max: 0.99, noNaN: true }), bursts, oversleeps, async (perSecond, plan, late) => {
        const clock = new VirtualTime(late);
        const times = (await schedule(new RateLimiter(perSecond, clock.now, clock.sleep), clock, plan)).sort((a, b) => a - b);
        for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThan(1000 / perSecond);
      }),
      { numRuns: 50 },
    );
  });

  // Regression: evenly spaced slots (one every 100 ms at 10/s) put 11 calls into the closed second [0, 1000].
  it('at 10/s lets 10 calls through at once, and the 11th only after a full second', async () => {
    const clock = new VirtualTime([0]);
    const times = await schedule(new RateLimiter(10, clock.now, clock.sleep), clock, [{ gap: 0, calls: 11 }]);
    expect(times.slice(0, 10).every((t) => t === times[0])).toBe(true);
    expect(times[10]! - times[0]!).toBeGreaterThan(1000);
    expect(busiestSecond(times)).toBe(10);
  });

  it('uses the whole budget: 90 calls at 9/s take about ten seconds, not more', async () => {
    const clock = new VirtualTime([0]);
    const start = clock.time;
    const times = await schedule(new RateLimiter(9, clock.now, clock.sleep), clock, [{ gap: 0, calls: 90 }]);
    expect(times.at(-1)! - start).toBeLessThanOrEqual(9 * 1001);
  });

  it('with a fractional budget above one, uses it: 975 calls at 9.75/s take about 100 s, and no second holds more than 10', async () => {
    const clock = new VirtualTime([0]);
    const start = clock.time;
    const times = await schedule(new RateLimiter(9.75, clock.now, clock.sleep), clock, [{ gap: 0, calls: 975 }]);
    expect(sendBudget(9.75)).toEqual({ capacity: 10, windowMs: 1026 });
    expect(times.at(-1)! - start).toBeLessThanOrEqual(97 * 1027);
    expect(busiestSecond(times)).toBe(10);
  });

  // AWS allows 10 calls/s per account and region: 100 000 (customer, dimension) pairs are 4000 calls, 400 s at the quota.
  it('at the default budget, 4000 calls take within 5 % of 400 s and no sliding second holds more than 10', async () => {
    const { requestsPerSecond } = resolveOptions({ products: [{ productCode: 'prod-1', dimensions: ['api'] }] });
    const clock = new VirtualTime([1]);
    const start = clock.time;
    const times = await schedule(new RateLimiter(requestsPerSecond, clock.now, clock.sleep), clock, [{ gap: 0, calls: 4000 }]);
    expect((times.at(-1)! - start) / 1000).toBeLessThanOrEqual(420);
    expect(busiestSecond(times)).toBeLessThanOrEqual(10);
  });

  it('refuses a budget that is not a positive number', () => {
    expect(() => new RateLimiter(0, Date.now, async () => undefined)).toThrow(RangeError);
    expect(() => new RateLimiter(Number.NaN, Date.now, async () => undefined)).toThrow(RangeError);
  });
});
