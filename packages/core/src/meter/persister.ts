import { randomUUID } from 'node:crypto';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import type { UsageDelta } from '../model/usage';
import type { UsageStore } from '../store/usage-store';

interface Batch {
  readonly id: string;
  readonly deltas: readonly UsageDelta[];
}
import type { Aggregator } from './aggregator';

/**
 * Moves aggregated usage into the store as atomic increments, one write at a time, each batch under an id.
 * A failed write is retried as the same batch: nothing is dropped, and nothing counts twice.
 */
export class Persister {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private lastFailure: MeterkitError | undefined;
  /** A batch whose write failed: it may or may not be in the store, so it is retried as is, under its id. */
  private unconfirmed: Batch | undefined;

  constructor(
    private readonly aggregator: Aggregator,
    private readonly store: UsageStore,
    private readonly events: MeteringEmitter,
    private readonly logger: Logger,
  ) {}

  /** Aggregates and deltas not yet confirmed in the store. */
  get pending(): number {
    return this.aggregator.size + (this.unconfirmed?.deltas.length ?? 0);
  }

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
    for (;;) {
      const batch = this.unconfirmed ?? this.nextBatch();
      if (batch === undefined) return;
      try {
        const { late, applied } = await this.store.addUsage(batch.deltas, batch.id);
        this.unconfirmed = undefined;
        this.lastFailure = undefined;
        if (applied === false) continue;
        let quantity = 0;
        for (const delta of batch.deltas) quantity += delta.quantity;
        this.events.emit('persisted', { deltas: batch.deltas.length, quantity });
        if (late.length > 0) {
          this.logger.warn({ deltas: late.length }, 'usage arrived after its hour was frozen; it is counted in status, not sent');
          this.events.emit('late', { deltas: late });
        }
      } catch (cause) {
        // The write may have been applied and only its answer lost: keep the batch as it is, with its id, and
        // retry exactly it first. The store skips a batch id it has applied, so nothing counts twice.
        this.unconfirmed = batch;
        const error =
          cause instanceof MeterkitError
            ? cause
            : new MeterkitError(ErrorCodes.STORE, `Could not persist usage to the ${this.store.kind} store; it is kept in memory and retried.`, { cause });
        this.lastFailure = error;
        this.logger.error({ code: error.code, store: this.store.kind, deltas: batch.deltas.length, err: String(cause) }, 'persist failed');
        this.events.emit('error', { error });
        throw error;
      }
    }
  }

  private nextBatch(): Batch | undefined {
    const deltas = this.aggregator.drain();
    return deltas.length === 0 ? undefined : { id: randomUUID(), deltas };
  }
}
