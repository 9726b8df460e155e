import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexamples of "product mode (MeterUsage): every hour is sent inside the 6-hour window whatever the
 * lock" and of "the whole engine on SQLite": with a lock of 5 hours or more, BatchMeterUsage's due rules never let
 * a product hour go out before MeterUsage's 6-hour window closed. Refusing such a lock up front (ERR_METERKIT_OPTIONS)
 * is the other correct answer.
 */
describe('regression: product hours are due inside MeterUsage 6-hour window whatever the lock', () => {
  it('with lockMinutes 600 a product hour is sent inside its window or the lock is refused, never left open past it', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 600, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('product', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
    ]));

  it('with lockMinutes 1200 on SQLite a product hour is sent inside its window or the lock is refused, never left open past it', () =>
    runOnce({ store: 'sqlite', durability: 'interval', lockMinutes: 1200, start: '2026-07-15T10:20:00.000Z', productMode: true }, [C.commit('product', [['api_calls', 0]], false)]));

  it('with lockMinutes 300 a product hour is sent while the app flushes or the lock is refused, never expired unsent', () =>
    runOnce({ store: 'sqlite', durability: 'interval', lockMinutes: 300, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('product', [['api_calls', 0]], false),
      C.clock({ kind: 'appRuns', hours: 1 }),
    ]));
});
