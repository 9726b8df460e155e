import fc from 'fast-check';
import { sharedMemoryStore } from '../support/shared-memory-store';
import { raceBudget } from './kit/budget';
import { ReplayScheduler } from './kit/interleaver';
import { NEUTRAL_EVENTS, STATUS_EVENTS } from './kit/lifecycle-events';
import { lifecycleScenarios, runLifecycleRace, type LifecycleScenario } from './kit/lifecycle-race';

/**
 * Lifecycle events delivered one at a time, in any order (EventBridge does not keep order): the customer must end
 * as if they had been applied in event-time order. No two calls overlap here, so a failure is about ordering rules,
 * not races.
 */
const harness = { openShared: async (count: number) => sharedMemoryStore(count) };
const budget = raceBudget(40, 1_000);

it(`events delivered one at a time in any order leave the event-time outcome (seed ${budget.seed}, ${budget.numRuns} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), lifecycleScenarios({ kinds: [...STATUS_EVENTS, ...NEUTRAL_EVENTS] }), (s, scenario) =>
      runLifecycleRace(harness, scenario, s, true),
    ),
    { numRuns: budget.numRuns, seed: budget.seed },
  );
}, budget.timeoutMs);

const oneAtATime = (scenario: LifecycleScenario) => runLifecycleRace(harness, scenario, new ReplayScheduler([]), true);

describe('regressions (shrunk counterexamples)', () => {
  it('an older Agreement Ended (cancelled) delivered after a newer License Deprovisioned still sets the earlier deadline', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'license-deprovisioned', second: 2 }, on: 0 },
        { op: 'event', event: { kind: 'agreement-cancelled', second: 1 }, on: 0 },
      ],
    }));

  it('a newer Purchase Agreement Amended delivered first does not make an older License Deprovisioned stale', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'agreement-amended', second: 2 }, on: 0 },
        { op: 'event', event: { kind: 'license-deprovisioned', second: 1 }, on: 0 },
      ],
    }));

  it('a newer entitlement-updated delivered first does not make an older subscribe-fail stale', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'legacy-entitlement-updated', second: 2 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-subscribe-fail', second: 1 }, on: 0 },
      ],
    }));

  // Found once older openers moved the deadline but an older activation was ignored (seed 7, path
  // 32:0:2:4:2:3:5:2:3:6:6:8:2:2:4:2:2:2:2:2:2:2:2:2:7:2:4:2:2:2:2:2:2:2:2:7:2:4:2:2:2:2:2:2:2:7:2:4:2:2:2:2:2:2:7:2:4:2:2:2:2:7:2:4:2:2:2:7:2:4:2:2:7:2:4:2:7:2:4:7:2:8:3:9:6:0:0:0:0:0:0).
  it('an older License Updated delivered last closes the window an even older License Deprovisioned opened', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'agreement-cancelled', second: 3 }, on: 0 },
        { op: 'event', event: { kind: 'license-deprovisioned', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'license-updated', second: 2 }, on: 0 },
      ],
    }));

  // The same, legacy (seed 11, path
  // 85:0:1:5:2:2:3:3:2:3:6:6:6:7:2:4:2:2:2:2:2:2:2:2:6:2:4:2:2:2:2:2:2:2:6:2:4:2:2:2:2:2:2:6:2:4:2:2:2:2:2:6:2:4:2:2:2:2:6:2:4:2:2:2:6:2:4:2:2:6:2:4:2:6:2:7:3:7:7:0:0:0:0:0:0:0:0:0).
  it('an older subscribe-success delivered last closes the window an even older unsubscribe-pending opened', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 3 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-subscribe-success', second: 2 }, on: 0 },
      ],
    }));

  // Found when only the earliest opener was kept (seed 13, path
  // 56:4:5:8:7:9:6:6:6:7:8:8:5:7:5:5:5:5:5:5:5:5:5:7:5:7:5:5:5:5:5:5:5:5:7:5:7:5:5:5:5:5:5:5:7:5:7:5:5:5:5:5:5:7:5:7:5:5:5:5:5:7:5:7:5:5:5:5:7:5:7:5:5:7:5:7:5:7:5:7:7:5:8:6:8:9:6:0:0:0:0:0:0:0):
  // the older License Updated removes the first opener, and the deadline must come from the next one.
  it('an older License Updated delivered last leaves the deadline of the opener after it', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'agreement-expired', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'agreement-expired', second: 3 }, on: 0 },
        { op: 'event', event: { kind: 'license-updated', second: 2 }, on: 0 },
      ],
    }));
});

describe('the final-usage window in event-time order (documented rules)', () => {
  it('a legacy resubscribe (subscribe-success) closes the window: a later unsubscribe-pending counts from itself', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-subscribe-success', second: 2 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 3 }, on: 0 },
      ],
    }));

  it('an unsubscribe-pending older than the subscribe-fail that ended the customer still counts for a later window', () =>
    oneAtATime({
      instances: 2,
      ops: [
        { op: 'event', event: { kind: 'legacy-subscribe-fail', second: 2 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 1 }, on: 0 },
        { op: 'event', event: { kind: 'legacy-unsubscribe-pending', second: 3 }, on: 0 },
      ],
    }));
});
