import type { Logger } from '../logger';
import type { UsageStore } from '../store/usage-store';
import type { RateLimiter } from './rate-limiter';

/** What the Flusher and the MeterUsage sender wait on before each call to AWS. */
export interface SendLimiter {
  take(): Promise<void>;
}

/** The one scope of BatchMeterUsage and MeterUsage calls: they share one limit, as in each instance. */
export const METERING_SCOPE = 'metering';

export interface SendQuotaOptions {
  /** This instance's own limit, taken first; its budget is also the shared one. */
  readonly local: RateLimiter;
  /** The store's send slots, shared by every instance on it. */
  readonly shared: Required<Pick<UsageStore, 'takeSendSlot'>>;
  readonly scope: string;
  /** The engine's clock: grants are timed by it. */
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly logger: Logger;
  /** Real time, to notice a clock that stands still. Default Date.now. */
  readonly realTime?: () => number;
}

/**
 * The instance's own limit, then a slot of the quota every instance on the store shares: no closed window of the
 * budget's windowMs holds more than its capacity grants, whichever instances made them. Callers are served one at
 * a time, in the order they called take().
 */
export class SendQuota implements SendLimiter {
  private tail: Promise<void> = Promise.resolve();
  /** Set once the engine's clock stood still through a whole window: the store's slots can never free up. */
  private clockStill = false;
  private storeFailing = false;
  private readonly realTime: () => number;

  constructor(private readonly o: SendQuotaOptions) {
    this.realTime = o.realTime ?? Date.now;
  }

  take(): Promise<void> {
    const turn = this.tail.then(() => this.acquire());
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(): Promise<void> {
    await this.o.local.take();
    if (this.clockStill) return;
    const { capacity, windowMs } = this.o.local.budget;
    let still: { readonly clock: number; readonly real: number } | undefined;
    for (;;) {
      const now = this.o.clock();
      let waitMs: number;
      try {
        waitMs = await this.o.shared.takeSendSlot(this.o.scope, now, capacity, windowMs);
        this.storeFailing = false;
      } catch (error) {
        // The quota only spares AWS's throttling, which is retried: a store that cannot answer must not stop sending.
        if (!this.storeFailing) this.o.logger.warn({ err: error }, 'the store could not share the send quota: this call is held by the instance\'s own limit only');
        this.storeFailing = true;
        return;
      }
      if (waitMs <= 0) return;
      if (still === undefined || still.clock !== now) {
        still = { clock: now, real: this.realTime() };
      } else if (this.realTime() - still.real > windowMs) {
        this.clockStill = true;
        this.o.logger.warn({ clock: now }, 'the clock option stood still for a whole send window: the shared send quota is off, each instance keeps its own limit');
        return;
      }
      await this.o.sleep(waitMs);
    }
  }
}
