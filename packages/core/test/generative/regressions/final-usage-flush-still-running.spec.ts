import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexample of "the whole engine on SQLite": License Deprovisioned starts the final-usage flush in the
 * background; the next commands ran, and the invariants were checked, while that flush was between AWS applying
 * its call and the settle of the answer ("sending, yet AWS holds 1"). The harness waits for the engine's
 * background work (Metering.idle()) after each lifecycle event and before a restart; it had stopped waiting for it
 * once that work moved out of the Metering class.
 */
describe('regression: the invariants are checked once the final-usage flush a lifecycle event started is done', () => {
  // whole-engine, seed 163670015 (npm run fuzz, 200 runs), path 189:2:4:8:1:6:13:13:13:12:12:12:12:12:12:12:12:12:12:12:12:13:15:14:15:14:15:15:15:14:16:15:15:15:15:14:14:14
  it('finds the deprovisioned buyer\'s hour sent once, not still sending while AWS holds it', () =>
    runOnce({ store: 'sqlite', durability: 'sync', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('lic1', [['api_calls', 1]], false),
      C.restart(false),
      C.lifecycle('lic1', 'License Deprovisioned', 0, false),
      C.commit('lic0', [['api_calls', 0]], false),
      C.commit('product', [['api_calls', 0]], false),
      C.commit('lic0', [['api_calls', 0]], false, true),
    ]));
});
