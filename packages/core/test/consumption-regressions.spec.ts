import fc from 'fast-check';
import { C, runConsumption, type RunSetup } from './support/consumption-commands';

/**
 * Short command sequences of the contracts-with-consumption property as named cases, on both stores: the shrunk
 * sequence that catches a store applying a retried batch twice, a retry across an entitlement raise, and two
 * engines' writes on one counter landing in either order.
 */

const ZERO_QUOTAS: RunSetup['initial'] = [
  { api_quota: 0, export_quota: 0 },
  { api_quota: 0, export_quota: 0 },
];

describe('consumption: named sequences of the consumption property', () => {
  for (const store of ['memory', 'sqlite'] as const) {
    describe(`on a ${store} store`, () => {
      it('a batch whose answer was lost is retried under its id and counted once against the allowance', () =>
        runConsumption({ store, cacheMs: 0, initial: ZERO_QUOTAS }, [
          C.record(2, 0, 'api_calls', 1),
          C.persist([[], [], ['lost-answer']], fc.schedulerFor([1])),
        ]));

      it('a batch whose answer was lost, retried after the entitlement was raised, is counted once, against one included amount', () =>
        runConsumption({ store, cacheMs: 0, initial: [{ api_quota: 5, export_quota: 0 }, { api_quota: 0, export_quota: 0 }] }, [
          C.record(0, 0, 'api_calls', 12),
          C.persist([['lost-answer'], [], []], fc.schedulerFor([1])),
          C.raise(0, 'api_quota', 10),
          C.record(1, 0, 'api_calls', 4),
          C.persist([[], [], []], fc.schedulerFor([2, 1])),
        ]));

      it('two engines\' writes on one counter land in either order, each metering only what the other left above the quota', () =>
        runConsumption({ store, cacheMs: 5_000, initial: [{ api_quota: 10, export_quota: 3 }, { api_quota: 0, export_quota: 0 }] }, [
          C.record(0, 0, 'api_calls', 7),
          C.record(1, 0, 'api_calls', 6),
          C.record(1, 0, 'exports', 2),
          C.record(2, 0, 'exports', 2),
          C.persist([[], [], []], fc.schedulerFor([3, 2, 1])),
          C.clock(200),
          C.crash(0),
        ]));
    });
  }
});
