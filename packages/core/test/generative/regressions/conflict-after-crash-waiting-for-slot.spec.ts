import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexample of "the whole engine on SQLite" with C.crashMidSend, found against the journal written
 * when a call starts waiting for its send slot (the order before a send was journaled once its call holds a slot;
 * simulated in the harness): AWS already holds another quantity for a license's hour; the process dies while the
 * call carrying meterkit's record waits for its slot. The record was marked as possibly at AWS although it never
 * left, so the next instance took AWS's DuplicateRecord for its own resend and booked the conflict as sent. Now
 * nothing is journaled before the slot is granted, and the conflict must end duplicate.
 */
describe('regression: a conflicting prior record, then a crash while the call waits for its send slot', () => {
  // whole-engine, seed 1 (METERKIT_FUZZ_RUNS=200), path 114:0:0:3:3:10:12:6:6:6:7:6:6
  it('is reported duplicate by the next instance, not booked as its own resend', () =>
    runOnce({ store: 'sqlite', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.seed('lic1', 'api_calls', -1, false, null, 0),
      C.commit('lic1', [['api_calls', 0, 'red']], false, true),
      C.crashMidSend('waiting-for-slot', 0, true),
      C.flush([]),
    ]));
});
