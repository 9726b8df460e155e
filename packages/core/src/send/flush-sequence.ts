import type { Lifecycle } from '../lifecycle/lifecycle';
import type { Persister } from '../meter/persister';
import { dueBefore, type DueRules } from '../model/hours';
import { storeCall } from '../store/store-call';
import type { UsageStore } from '../store/usage-store';
import type { FlushReport } from './flush-report';
import type { Flusher, FlushRequest } from './flusher';
import type { ZeroHours } from './zero-hours';

export interface FlushSequenceDeps {
  readonly persister: Persister;
  readonly store: UsageStore;
  /** Zero records for hours without usage; undefined with `zeroHours: false`. */
  readonly zeroHours: ZeroHours | undefined;
  readonly lifecycle: Lifecycle;
  readonly flusher: Flusher;
  readonly rules: DueRules;
  readonly clock: () => number;
}

/**
 * One flush of the engine, in order: persist what is in memory (a failure leaves it there), fill zero hours, add the
 * customers in final usage to the forced ones, then send every due hour. A store that fails rejects with
 * ERR_METERKIT_STORE.
 */
export class FlushSequence {
  /** Flushes started and not yet settled, from the call on (before the store is open): close() waits for them. */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly d: FlushSequenceDeps) {}

  /** Runs one flush once `ready` resolves, tracked from this call on. */
  start(ready: Promise<unknown>, request: FlushRequest): Promise<FlushReport> {
    const run = ready.then(() => this.run(request));
    const settled = run.then(ignore, ignore);
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return run;
  }

  /** Resolves once no flush is running, including flushes started while waiting. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async run(request: FlushRequest): Promise<FlushReport> {
    const d = this.d;
    await d.persister.persist().catch(() => undefined);
    const zeroHours = d.zeroHours;
    if (zeroHours !== undefined) {
      const now = d.clock();
      await storeCall(() => zeroHours.fill(dueBefore(now, d.rules), now));
    }
    const finalUsage = await storeCall(() => d.lifecycle.finalUsageCustomers());
    const forced = [...new Set([...(request.forceCustomerKeys ?? []), ...finalUsage])];
    return storeCall(() =>
      d.flusher.flush({
        ...(forced.length === 0 ? {} : { forceCustomerKeys: forced }),
        ...(request.stopAt === undefined ? {} : { stopAt: request.stopAt }),
        ...(request.outOfTime === undefined ? {} : { outOfTime: request.outOfTime }),
      }),
    );
  }
}

function ignore(): void {}
