import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexamples of "SaaS buyers: a record AWS already holds with the same quantity is billed once": the
 * emulator must de-duplicate on quantity per buyer, dimension and hour, whatever the allocation tags and whichever
 * identity form (CustomerIdentifier or account id) a legacy buyer's record carries.
 */
describe('regression: the emulator de-duplicates like AWS', () => {
  it('the same quantity with other allocation tags in the same hour is billed once, not answered DuplicateRecord', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.commit('legacy', [['api_calls', 0, 'red']], false),
      C.seed('legacy', 'api_calls', 0, false, null, 0),
      C.clock({ kind: 'minutes', minutes: 1 }),
    ]));

  it('the same quantity with other tags seeded for an earlier hour is billed once', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.commit('legacy', [['api_calls', 0, 'red']], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.seed('legacy', 'api_calls', 0, false, null, 2),
      C.clock({ kind: 'downtime', hours: 2 }),
    ]));

  it('a legacy buyer sent once by account id and once by CustomerIdentifier for the same hour is not billed twice', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.seed('legacy', 'api_calls', 0, true, null, 0),
      C.commit('legacy', [['api_calls', 1, 'red']], false),
      C.flush([]),
    ]));
});
