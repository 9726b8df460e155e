import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import type { UsageDelta } from '../model/usage';
import type { UsageStore } from '../store/usage-store';
import type { Aggregator } from './aggregator';
import type { BoundCustomer } from './bound-customer';

/**
 * Moves aggregated usage into the store as atomic increments, one write at a time.
 * A failed write puts the usage back into memory, to be written with the next one: nothing is dropped.
 */
export class Persister {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private lastFailure: MeterkitError | undefined;

  constructor(
    private readonly aggregator: Aggregator,
    private readonly store: UsageStore,
    private readonly boundCustomer: (delta: UsageDelta) => BoundCustomer,
    private readonly events: MeteringEmitter,
    private readonly logger: Logger,
  ) {}

  /** The error of the last write if it failed, until a write succeeds. */
  get failure(): MeterkitError | undefined {
    return this.lastFailure;
  }

  /**
   * Writes everything aggregated so far. Concurrent callers share writes: a call made while a write runs
   * waits for the next write, which includes its usage. Rejects when the store write fails.
   */
  persist(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.writeOnce().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.persist();
      });
    return this.queued;
  }

  private async writeOnce(): Promise<void> {
    const deltas = this.aggregator.drain();
    if (deltas.length === 0) return;
    try {
      const { late } = await this.store.addUsage(deltas);
      this.lastFailure = undefined;
      let quantity = 0;
      for (const delta of deltas) quantity += delta.quantity;
      this.events.emit('persisted', { deltas: deltas.length, quantity });
      if (late.length > 0) {
        this.logger.warn({ deltas: late.length }, 'usage arrived after its hour was frozen; it is counted in status, not sent');
        this.events.emit('late', { deltas: late });
      }
    } catch (cause) {
      this.aggregator.restore(deltas, this.boundCustomer);
      const error =
        cause instanceof MeterkitError
          ? cause
          : new MeterkitError(ErrorCodes.STORE, `Could not persist usage to the ${this.store.kind} store; it is kept in memory and retried.`, { cause });
      this.lastFailure = error;
      this.logger.error({ code: error.code, store: this.store.kind, deltas: deltas.length, err: String(cause) }, 'persist failed');
      this.events.emit('error', { error });
      throw error;
    }
  }
}
