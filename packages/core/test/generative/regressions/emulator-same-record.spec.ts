import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexamples of "SaaS buyers: a record AWS already holds with the same quantity is billed once": the
 * emulator must de-duplicate on quantity per buyer, dimension and hour, whatever the allocation tags and whichever
 * identity form (CustomerIdentifier or account id) a legacy buyer's record carries.
 */
describe('regression: the emulator de-duplicates like AWS', () => {
  // saas-same-prior, seed 5, path 6:0:0:0:0:0:2:1:3:5:4:5:5:5:3:5:3:4:4:4
  it('the same quantity with other allocation tags in the same hour is billed once, not answered DuplicateRecord', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.commit('legacy', [['api_calls', 0, 'red']], false),
      C.seed('legacy', 'api_calls', 0, false, null, 0),
      C.clock({ kind: 'minutes', minutes: 1 }),
    ]));

  // saas-same-prior, seed 2, path 9:0:0:1:6:7:0:7:9:10:10:9:9:8:8:8:8:9:9:10:8:9:10
  it('the same quantity with other tags seeded for an earlier hour is billed once', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.commit('legacy', [['api_calls', 0, 'red']], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.seed('legacy', 'api_calls', 0, false, null, 2),
      C.clock({ kind: 'downtime', hours: 2 }),
    ]));

  // saas-same-prior, seed 20261207 (npm test's), path 19:0:0:2:1:4:5:6:6:5:5:5:5:5:5:5:5:5:5:5:5:5:5:6
  it('a legacy buyer sent once by account id and once by CustomerIdentifier for the same hour is not billed twice', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.seed('legacy', 'api_calls', 0, true, null, 0),
      C.commit('legacy', [['api_calls', 1, 'red']], false),
      C.flush([]),
    ]));

  // whole-engine, seed 6, path 18:0:0:0:0:8:8:5:3:4:4:3:4:5:5:5:5
  it('another quantity seeded by account id is a conflict for the buyer metered by CustomerIdentifier, not a second bill', () =>
    runOnce({ store: 'sqlite', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('legacy', [['api_calls', 0]], false),
      C.seed('legacy', 'api_calls', -1, true, null, 0),
      C.commit('lic0', [['api_calls', 0, 'red']], false),
    ]));

  // whole-engine, seed 20261207 (npm test's), path 17:0:0:0:4:8:4:5:5
  it('a tagged prior with the quantity meterkit sends untagged is billed once, on SQLite among other buyers', () =>
    runOnce({ store: 'sqlite', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.commit('legacy', [['api_calls', 0]], false),
      C.seed('legacy', 'api_calls', 0, false, 'red', 0),
      C.seed('lic0', 'api_calls', 0, false, null, 0),
    ]));
});
