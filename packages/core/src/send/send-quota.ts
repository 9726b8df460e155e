import type { Logger } from '../logger';
import type { UsageStore } from '../store/usage-store';
import { answeredStamp, SendStopped, stopSlice, type RateLimiter } from './rate-limiter';

/** What the Flusher and the MeterUsage sender make each call to AWS through. */
export interface SendLimiter {
  /**
   * Makes `call` once the budget allows it; the call counts until it is answered (answeredStamp()). Rejects with
   * SendStopped, without calling, when `stop` answers true while the call waits.
   */
  run<T>(call: () => Promise<T>, stop?: () => boolean): Promise<T>;
}

type SendSlots = Required<Pick<UsageStore, 'takeSendSlot' | 'extendSendSlot'>>;

/** The one scope of BatchMeterUsage and MeterUsage calls: they share one limit, as in each instance. */
export const METERING_SCOPE = 'metering';

export interface SendQuotaOptions {
  /** This instance's own limit, taken first; its budget is also the shared one. */
  readonly local: RateLimiter;
  /** The store's send slots, shared by every instance on it. */
  readonly shared: SendSlots;
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
  private tail: Promise<unknown> = Promise.resolve();
  /** Set once the engine's clock stood still through a whole window: the store's slots can never free up. */
  private clockStill = false;
  private storeFailing = false;
  private readonly realTime: () => number;

  constructor(private readonly o: SendQuotaOptions) {
    this.realTime = o.realTime ?? Date.now;
  }

  async run<T>(call: () => Promise<T>, stop?: () => boolean): Promise<T> {
    const turn = this.tail.then(() => this.acquire(stop));
    this.tail = turn.catch(() => undefined);
    const slot = await turn;
    try {
      return await call();
    } finally {
      await this.answered(slot);
    }
  }

  /** Counts the call from its answer where that is later than its grant (answeredStamp()). */
  private async answered(slot: { readonly local: number; readonly shared: number | undefined }): Promise<void> {
    this.o.local.answered(slot.local);
    if (slot.shared === undefined) return;
    const until = answeredStamp(this.o.local.budget, slot.shared, this.o.clock());
    if (until === slot.shared) return;
    try {
      await this.o.shared.extendSendSlot(this.o.scope, slot.shared, until);
    } catch (error) {
      this.warnStore(error);
    }
  }

  private warnStore(error: unknown): void {
    // The quota only spares AWS's throttling, which is retried: a store that cannot answer must not stop sending.
    if (!this.storeFailing) this.o.logger.warn({ err: error }, 'the store could not share the send quota: calls are held by the instance\'s own limit only');
    this.storeFailing = true;
  }

  private async acquire(stop: (() => boolean) | undefined): Promise<{ readonly local: number; readonly shared: number | undefined }> {
    const local = await this.o.local.grant(stop);
    if (this.clockStill) return { local, shared: undefined };
    const { capacity, windowMs } = this.o.local.budget;
    let still: { readonly clock: number; readonly real: number } | undefined;
    for (let waited = false; ; waited = true) {
      if (waited && stop?.() === true) throw new SendStopped();
      const now = this.o.clock();
      let waitMs: number;
      try {
        waitMs = await this.o.shared.takeSendSlot(this.o.scope, now, capacity, windowMs);
        this.storeFailing = false;
      } catch (error) {
        this.warnStore(error);
        return { local, shared: undefined };
      }
      if (waitMs <= 0) return { local, shared: now };
      if (still === undefined || still.clock !== now) {
        still = { clock: now, real: this.realTime() };
      } else if (this.realTime() - still.real > windowMs) {
        this.clockStill = true;
        this.o.logger.warn({ clock: now }, 'the clock option stood still for a whole send window: the shared send quota is off, each instance keeps its own limit');
        return { local, shared: undefined };
      }
      await this.o.sleep(stopSlice(stop, waitMs));
    }
  }
}
