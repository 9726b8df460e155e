import type { FaultScenario } from './fault-race';

/** Shrunk counterexamples of the store fault property, kept as named regressions. */
export interface FaultRegression {
  readonly name: string;
  readonly scenario: FaultScenario;
}

/** A single request or status() call: the order of store calls is fixed, so the fault plan alone replays it. */
export const FAULT_REGRESSIONS: readonly FaultRegression[] = [
  {
    name: 'a hung tenant lookup does not stall meterFor()',
    scenario: { instances: 1, faults: ['hang'], ops: [{ op: 'request', units: 1, on: 0 }] },
  },
  {
    name: 'a hung usage write does not stall a sync commit()',
    scenario: { instances: 1, faults: ['ok', 'hang'], ops: [{ op: 'request', units: 1, on: 0 }] },
  },
  {
    name: 'a hung stats() does not stall status()',
    scenario: { instances: 1, faults: ['hang'], ops: [{ op: 'status', on: 0 }] },
  },
];
