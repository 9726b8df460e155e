import { C } from '../commands';
import { runOnce } from '../run';

/**
 * Shrunk counterexamples of "product mode (MeterUsage) through AWS faults": AWS already holds another quantity for
 * the product's hour. meterkit's ClientToken makes an identical resend answer with the first MeteringRecordId, so
 * DuplicateRequestException always means another quantity, whatever happened to earlier attempts.
 */
describe('regression: MeterUsage DuplicateRequestException is a conflict, even after earlier attempts', () => {
  // product-conflicts, seed 20261207 (npm test's), path 25:0:0:0:0:3:3:3:7:10:13:8:8:8:8:11
  it('a DuplicateRequestException after a flush that gave up on throttling (attempts > 0) is reported as duplicate', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.seed('product', 'api_calls', 1, false, null, 0),
      C.commit('product', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.flush([{ kind: 'ThrottlingException', op: 'MeterUsage', count: 4 }]),
      C.flush([{ kind: 'InternalServiceErrorException', op: 'BatchMeterUsage', count: 1 }]),
    ]));

  // product-conflicts, seed 1, path 26:0:3:3:6:6:9:10:9:8:8:8:8:8:8:8:9:9:9
  it('a DuplicateRequestException after a 5xx in the same flush is reported as duplicate', () =>
    runOnce({ store: 'memory', durability: 'interval', lockMinutes: 0, start: '2026-07-15T10:20:00.000Z', productMode: true }, [
      C.seed('product', 'api_calls', 1, false, null, 0),
      C.commit('product', [['api_calls', 0]], false),
      C.clock({ kind: 'nextHour', minutes: 0 }),
      C.flush([{ kind: 'InternalServiceErrorException', op: 'MeterUsage', count: 1 }]),
      C.clock({ kind: 'nextHour', minutes: 0 }),
    ]));
});
