import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexample of "the whole engine on SQLite": AWS already holds another quantity for a legacy buyer's
 * hour; the buyer's unsubscribe-pending starts its final-usage flush, then the process dies. When it was found, the
 * harness did not wait for that background flush, so the crash came while its send was journaled and unanswered.
 * The harness now waits for the engine's background work before a restart (see
 * final-usage-flush-still-running.spec.ts): the final-usage flush answers the conflict before the crash, and the
 * next instance must keep it reported as duplicate, never billed twice.
 */
describe('regression: a legacy buyer\'s conflicting final usage, then a crash', () => {
  // whole-engine, seed 163670015 (npm run fuzz, 200 runs), path 98:1:1:4:8:11:11:14:17:13:13:14:13:15:14:15:15:14:15
  it('stays reported as duplicate, never taken as sent nor billed twice', () =>
    runOnce({ store: 'sqlite', durability: 'sync', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.seed('legacy', 'api_calls', 1, false, null, 0),
      C.commit('legacy', [['api_calls', 0]], false),
      C.lifecycle('legacy', 'unsubscribe-pending', 0, false),
      C.commit('lic0', [['api_calls', 0]], false),
      C.restart(true),
      C.clock({ kind: 'nextHour', minutes: 0 }),
    ]));
});
