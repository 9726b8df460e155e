import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexample of "the whole engine on SQLite": AWS already holds another quantity for a legacy buyer's
 * hour; the buyer's unsubscribe-pending starts its final-usage send, which is journaled and waits for a send slot
 * when the process dies. The next instance cannot tell whether that call reached AWS, so the DuplicateRecord it gets
 * may be its own resend: the key is ambiguous (the model had taken the call as answered before the crash).
 */
describe('regression: a final-usage send journaled and unanswered when the process dies', () => {
  // whole-engine, seed 163670015 (npm run fuzz, 200 runs), path 98:1:1:4:8:11:11:14:17:13:13:14:13:15:14:15:15:14:15
  it('leaves the key ambiguous: taken as sent or reported as duplicate, never billed twice', () =>
    runOnce({ store: 'sqlite', durability: 'sync', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.seed('legacy', 'api_calls', 1, false, null, 0),
      C.commit('legacy', [['api_calls', 0]], false),
      C.lifecycle('legacy', 'unsubscribe-pending', 0, false),
      C.commit('lic0', [['api_calls', 0]], false),
      C.restart(true),
      C.clock({ kind: 'nextHour', minutes: 0 }),
    ]));
});
