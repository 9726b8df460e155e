import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';

/**
 * Work the engine starts without a caller to answer: final-usage flushes and contract re-reads that lifecycle events
 * start, tracked until done, and the errors of that work and of the timers, logged and emitted as `error`.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly logger: Logger,
    private readonly events: MeteringEmitter,
  ) {}

  /** Tracks `work` until it settles; its error is reported. */
  add(work: Promise<unknown>): void {
    const tracked = work.catch((cause: unknown) => this.report(cause)).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Resolves once no tracked work is left, including work added while waiting. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Logs a background failure and emits it as `error` (a driver's error as ERR_METERKIT_STORE). */
  report(cause: unknown): void {
    const error = cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.STORE, 'A scheduled flush failed; it runs again at the next interval.', { cause });
    this.logger.error({ code: error.code, err: String(cause) }, error.message);
    this.events.emit('error', { error });
  }
}
