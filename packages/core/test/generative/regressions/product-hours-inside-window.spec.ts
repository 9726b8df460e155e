import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexamples of "product mode (MeterUsage): every hour is sent inside the 6-hour window whatever the
 * lock", on the code before the fix: with a lock of 5 hours or more, BatchMeterUsage's due rules never let a product hour go out before
 * MeterUsage's 6-hour window closed. Refusing such a lock up front (ERR_METERKIT_OPTIONS) is the other correct answer.
 */
describe('regression: product hours are due inside MeterUsage 6-hour window whatever the lock', () => {
  // seed 20261207 (npm test's), path 0:0:1:3:2:2:2:3:3:2:3:3:3:2:2:2
  it('with lockMinutes 600 a product hour is sent inside its window or the lock is refused, never left open past it', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 600, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('product', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
    ]));

  // seed 6, path 0:0:2:1:1
  it('with lockMinutes 1200 a product hour is sent inside its window or the lock is refused, never left open past it', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 1200, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('product', [['api_calls', 0]], false),
    ]));

  // seed 1, path 3:0:1:3:2:3:4:2:2
  it('with lockMinutes 300 a product hour is sent while the app flushes or the lock is refused, never expired unsent', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 300, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('product', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
    ]));
});
