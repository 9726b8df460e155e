import type * as FastCheck from 'fast-check';
import { ErrorCodes, isMeterkitError } from '../../errors';
import type { UsageStore } from '../usage-store';
import type { StoreContext } from './context';
import { T0 } from './fixtures';

type SendSlotStore = UsageStore & Required<Pick<UsageStore, 'takeSendSlot' | 'extendSendSlot'>>;

const SCOPE = 'metering';

function sendSlots(store: UsageStore): SendSlotStore {
  if (typeof store.takeSendSlot !== 'function' || typeof store.extendSendSlot !== 'function') {
    throw new Error(
      `${store.kind} lacks takeSendSlot() or extendSendSlot(): implement both to share one send quota between instances, ` +
        'or pass { sendQuota: false } to describeUsageStoreConformance',
    );
  }
  return store as SendSlotStore;
}

/** The most grants in any closed interval `windowMs` long. */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! > windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** fast-check runs the race property; it is loaded only here, so the rest of the kit needs nothing but Jest. */
function fastCheck(): typeof FastCheck {
  try {
    return require('fast-check') as typeof FastCheck;
  } catch {
    throw new Error('the send quota race property needs fast-check (npm install --save-dev fast-check)');
  }
}

export function describeSendQuota(store: () => UsageStore): void {
  describe('takeSendSlot (one send quota for every instance)', () => {
    it('grants `capacity` slots in a window, then answers how long to wait, then grants again after it', async () => {
      const s = sendSlots(store());
      for (let i = 0; i < 3; i++) await expect(s.takeSendSlot(SCOPE, T0, 3, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0, 3, 1000)).resolves.toBe(1001);
      await expect(s.takeSendSlot(SCOPE, T0 + 400, 3, 1000)).resolves.toBe(601);
      // The closed window [T0, T0 + 1000] already holds three grants.
      await expect(s.takeSendSlot(SCOPE, T0 + 1000, 3, 1000)).resolves.toBe(1);
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 3, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 3, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 3, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 3, 1000)).resolves.toBe(1001);
    });

    it('keeps a refused request out of the ring: waiting and asking again is granted', async () => {
      const s = sendSlots(store());
      await expect(s.takeSendSlot(SCOPE, T0, 1, 500)).resolves.toBe(0);
      for (let i = 0; i < 5; i++) await expect(s.takeSendSlot(SCOPE, T0 + 100, 1, 500)).resolves.toBe(401);
      await expect(s.takeSendSlot(SCOPE, T0 + 501, 1, 500)).resolves.toBe(0);
    });

    it('counts each scope apart', async () => {
      const s = sendSlots(store());
      await expect(s.takeSendSlot('metering', T0, 1, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot('metering', T0, 1, 1000)).resolves.toBeGreaterThan(0);
      await expect(s.takeSendSlot('other-account', T0, 1, 1000)).resolves.toBe(0);
    });

    it('does not stall on a clock set back: a grant more than a minute ahead is dropped, one less ahead counts', async () => {
      const s = sendSlots(store());
      await expect(s.takeSendSlot(SCOPE, T0 + 3_600_000, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 3_600_000, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 5, 2, 1000)).resolves.toBe(996);
      // Within a window ahead is another instance's recent grant: it counts.
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 500, 2, 1000)).resolves.toBe(501);
      // So does one less than a minute ahead (a caller whose time was read before a slow answer): it is waited for.
      await expect(s.takeSendSlot(SCOPE, T0 + 30_000, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 30_000, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 2000, 2, 1000)).resolves.toBe(29_001);
    });

    it('follows a smaller or larger capacity than the ring was kept for', async () => {
      const s = sendSlots(store());
      for (let i = 0; i < 4; i++) await expect(s.takeSendSlot(SCOPE, T0 + i, 4, 1000)).resolves.toBe(0);
      // Capacity 2: the newest two grants (T0 + 2, T0 + 3) fill the window.
      await expect(s.takeSendSlot(SCOPE, T0 + 10, 2, 1000)).resolves.toBe(993);
      // Capacity 6: two more fit, then the oldest (T0) frees the next slot.
      await expect(s.takeSendSlot(SCOPE, T0 + 10, 6, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 10, 6, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 10, 6, 1000)).resolves.toBe(991);
    });

    it('extendSendSlot() makes a grant count from a later time: the slot frees a window after that', async () => {
      const s = sendSlots(store());
      await expect(s.takeSendSlot(SCOPE, T0, 1, 1000)).resolves.toBe(0);
      await s.extendSendSlot(SCOPE, T0, T0 + 300);
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 1, 1000)).resolves.toBe(300);
      await expect(s.takeSendSlot(SCOPE, T0 + 1301, 1, 1000)).resolves.toBe(0);
    });

    it('extendSendSlot() changes nothing for a grant no longer in the ring, or for an earlier time', async () => {
      const s = sendSlots(store());
      await s.extendSendSlot(SCOPE, T0, T0 + 300);
      await expect(s.takeSendSlot(SCOPE, T0, 2, 1000)).resolves.toBe(0);
      await expect(s.takeSendSlot(SCOPE, T0 + 10, 2, 1000)).resolves.toBe(0);
      await s.extendSendSlot(SCOPE, T0 + 5, T0 + 900);
      await s.extendSendSlot(SCOPE, T0 + 10, T0 + 2);
      await expect(s.takeSendSlot(SCOPE, T0 + 20, 2, 1000)).resolves.toBe(981);
      await expect(s.takeSendSlot(SCOPE, T0 + 1001, 2, 1000)).resolves.toBe(0);
      // T0 left the ring with that grant: extending it now changes nothing.
      await s.extendSendSlot(SCOPE, T0, T0 + 5000);
      await expect(s.takeSendSlot(SCOPE, T0 + 1011, 2, 1000)).resolves.toBe(0);
    });

    it('refuses arguments out of range with ERR_METERKIT_STORE', async () => {
      const s = sendSlots(store());
      const bad: Array<[string, number, number, number]> = [
        ['', T0, 1, 1000],
        [SCOPE, Number.NaN, 1, 1000],
        [SCOPE, T0, 0, 1000],
        [SCOPE, T0, 1.5, 1000],
        [SCOPE, T0, 1, 0],
      ];
      for (const args of bad) {
        const error = await s.takeSendSlot(...args).then(() => undefined, (e: unknown) => e);
        expect(isMeterkitError(error) && error.code === ErrorCodes.STORE).toBe(true);
      }
      for (const args of [['', T0, T0 + 1], [SCOPE, -1, T0], [SCOPE, T0, Number.NaN]] as Array<[string, number, number]>) {
        const error = await s.extendSendSlot(...args).then(() => undefined, (e: unknown) => e);
        expect(isMeterkitError(error) && error.code === ErrorCodes.STORE).toBe(true);
      }
    });
  });
}

export function describeConcurrentSendQuota(sharedStores: () => Promise<[UsageStore, UsageStore]>, context: StoreContext): void {
  describe('takeSendSlot on one backing store through two handles', () => {
    async function handles(): Promise<[SendSlotStore, SendSlotStore]> {
      const [a, b] = await sharedStores();
      return [sendSlots(await context.track(a)), sendSlots(await context.track(b))];
    }

    it('shares one ring: what one handle was granted, the other is refused', async () => {
      const [first, second] = await handles();
      await expect(first.takeSendSlot(SCOPE, T0, 2, 1000)).resolves.toBe(0);
      await expect(second.takeSendSlot(SCOPE, T0 + 1, 2, 1000)).resolves.toBe(0);
      await expect(first.takeSendSlot(SCOPE, T0 + 2, 2, 1000)).resolves.toBe(999);
      await expect(second.takeSendSlot(SCOPE, T0 + 2, 2, 1000)).resolves.toBe(999);
      await first.extendSendSlot(SCOPE, T0, T0 + 100);
      await expect(second.takeSendSlot(SCOPE, T0 + 1002, 2, 1000)).resolves.toBe(0);
      await expect(second.takeSendSlot(SCOPE, T0 + 1003, 2, 1000)).resolves.toBe(98);
    });

    // Regression (race property, DynamoDB): a request whose time was read before other requests were granted
    // reached the store after them, more than a window behind; those grants were dropped as from a clock set back.
    it('refuses a late request whose time lags grants already made by more than a window', async () => {
      const [first, second] = await handles();
      await expect(second.takeSendSlot(SCOPE, T0 + 20, 2, 5)).resolves.toBe(0);
      await expect(second.takeSendSlot(SCOPE, T0 + 25, 2, 5)).resolves.toBe(0);
      await expect(first.takeSendSlot(SCOPE, T0, 2, 5)).resolves.toBe(26);
      await expect(first.takeSendSlot(SCOPE, T0 + 26, 2, 5)).resolves.toBe(0);
    });

    it('never puts more than `capacity` grants into any closed window, however the handles\' requests race', async () => {
      const fc = fastCheck();
      const [first, second] = await handles();
      const handleOf = [first, second] as const;
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 5, max: 1000 }),
          fc.array(
            fc.record({
              handle: fc.integer({ min: 0, max: 1 }),
              // Edges of the window as often as anything between: a slot frees exactly one window after a grant.
              advance: fc.oneof(fc.constantFrom(0, 1, 0.5, 1 / 3), fc.double({ min: 0, max: 1, noNaN: true })),
            }),
            { minLength: 1, maxLength: 16 },
          ),
          async (s, capacity, windowMs, requests) => {
            // A scope per run: every run starts on an empty ring of the same backing store.
            const scope = `race-${run++}`;
            let clock = T0;
            const granted: number[] = [];
            const calls = requests.map(({ handle, advance }) =>
              s.schedule(Promise.resolve(), `${handle}`).then(async () => {
                // Each request reads the shared clock when it starts, as an instance reads its own.
                clock += Math.round(advance * windowMs);
                const now = clock;
                const wait = await handleOf[handle].takeSendSlot(scope, now, capacity, windowMs);
                // The oldest grant in the ring is at most the newest clock reading: the wait is at most a window past it.
                if (wait === 0) granted.push(now);
                else if (!(wait > 0 && wait <= clock - now + windowMs + 1)) throw new Error(`a refused request was told to wait ${wait} ms`);
              }),
            );
            await s.waitAll();
            await Promise.all(calls);
            expect(busiestWindow(granted, windowMs)).toBeLessThanOrEqual(capacity);
            // The first `capacity` requests find an empty ring: the budget is used, not only held.
            expect(granted.length).toBeGreaterThanOrEqual(Math.min(capacity, requests.length));
          },
        ),
        { numRuns: 20 },
      );
    }, 180_000);
  });
}
