import type { UsageStore } from '../../../src';
import { lazyTask, type Interleaver } from './interleaver';

/**
 * What happens to one store call: `ok`; `fail` (refused, nothing applied); `lose-answer` (applied, then the
 * caller gets an error, as when the connection drops after the commit); `hang` (no answer until the test releases
 * it; the call is applied at release).
 */
export type StoreFault = 'ok' | 'fail' | 'lose-answer' | 'hang';

/** Methods passed straight through: the engine opens and closes its store outside the race. */
const UNSCHEDULED = new Set(['open', 'close', 'kind', 'durable', 'then', 'constructor']);

/** Faults in the order calls are made, shared by every store handle of a run. */
export class FaultPlan {
  private next = 0;
  private readonly hung: Array<() => Promise<void>> = [];
  private healed = false;
  /** Every call made, with its fault, in order. */
  readonly calls: Array<{ readonly label: string; readonly fault: StoreFault }> = [];

  constructor(private readonly faults: readonly StoreFault[] = []) {}

  /** The fault of the next call; every call is `ok` once the plan is used up or healed. */
  take(label: string): StoreFault {
    const fault = this.healed ? 'ok' : (this.faults[this.next] ?? 'ok');
    this.next += 1;
    this.calls.push({ label, fault });
    return fault;
  }

  hang(release: () => Promise<void>): void {
    this.hung.push(release);
  }

  get hungCalls(): number {
    return this.hung.length;
  }

  /** Ends the faults: later calls succeed, and hung calls are applied and answered, oldest first. */
  async heal(): Promise<void> {
    this.healed = true;
    while (this.hung.length > 0) await this.hung.shift()!();
  }
}

/** A driver's error, as the pg or DynamoDB clients throw them (not a MeterkitError). */
export class InjectedStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedStoreError';
  }
}

/**
 * Wraps a UsageStore so that every call is a task of the scheduler: it runs when the scheduler picks it, and the
 * caller sees its answer when the scheduler picks that too. Other calls, from this handle or others, can run in
 * between. Faults from `plan` apply to each call in the order calls are made.
 */
export function scheduledStore(target: UsageStore, scheduler: Interleaver, name: string, plan: FaultPlan = new FaultPlan()): UsageStore {
  return new Proxy(target, {
    get(store, property, receiver) {
      const value: unknown = Reflect.get(store, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function' || UNSCHEDULED.has(property)) {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(store) : value;
      }
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]): Promise<unknown> => {
        const label = `${name}.${property}`;
        const call = () => method.apply(store, args);
        let outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
        let hung: Promise<unknown> | undefined;
        const run = lazyTask(async () => {
          const fault = plan.take(label);
          if (fault === 'fail') {
            outcome = { ok: false, error: new InjectedStoreError(`${label} refused (injected)`) };
          } else if (fault === 'hang') {
            hung = new Promise((resolve, reject) => plan.hang(() => call().then(resolve, reject)));
          } else {
            try {
              const value = await call();
              outcome = fault === 'lose-answer' ? { ok: false, error: new InjectedStoreError(`${label} applied, answer lost (injected)`) } : { ok: true, value };
            } catch (error) {
              outcome = { ok: false, error };
            }
          }
        });
        return scheduler.schedule(run, `${label} run`).then(() => {
          if (hung !== undefined) return hung;
          return scheduler.schedule(Promise.resolve(), `${label} answer`).then(() => {
            if (outcome === undefined) throw new Error(`${label}: no outcome`);
            if (!outcome.ok) throw outcome.error;
            return outcome.value;
          });
        });
      };
    },
  });
}
