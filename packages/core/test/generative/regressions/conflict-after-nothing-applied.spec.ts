import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexamples of "SaaS buyers through AWS faults": AWS already holds another quantity for the key, and
 * the first call carrying meterkit's record applied nothing (throttled, or returned in UnprocessedRecords). The
 * DuplicateRecord of the next call is a conflict, not an answer to a resend of our own.
 */
describe('regression: a conflicting DuplicateRecord after a round that applied nothing', () => {
  // saas-conflicts, seed 3, path 74:0:0:0:0:4:6:7:9:11:9:9:11:10:10:10:9:9:10:10:10:10:7:6
  it('a conflicting DuplicateRecord after one throttle round is reported as duplicate', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.seed('legacy', 'api_calls', -1, false, null, 0),
      C.commit('legacy', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.flush([{ kind: 'ThrottlingException', op: 'BatchMeterUsage', count: 1 }]),
    ]));

  // saas-conflicts, seed 20261207 (npm test's), path 39:0:0:2:6:3:6:8:10:9:9:9:10:9:9:8:8:8:9:9
  it('a conflicting DuplicateRecord after an UnprocessedRecords round is reported as duplicate', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: false }, [
      C.seed('lic0', 'api_calls', -1, false, null, 0),
      C.commit('lic0', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.flush([{ kind: 'unprocessed', rate: 1 }]),
      C.clock({ kind: 'minutes', minutes: 1 }),
    ]));
});
