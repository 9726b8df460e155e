import { randomUUID } from 'node:crypto';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import type { UsageDelta } from '../model/usage';
import { withinStoreTimeout, type RequestStoreCalls } from '../store/store-timeout';
import type { AddUsageResult, UsageStore } from '../store/usage-store';
import type { Aggregator } from './aggregator';

interface Batch {
  readonly id: string;
  readonly deltas: readonly UsageDelta[];
}

/**
 * Moves aggregated usage into the store as atomic increments, one write at a time, each batch under an id.
 * A failed or unanswered write is retried as the same batch: nothing is dropped, and nothing counts twice.
 */
export class Persister {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private lastFailure: MeterkitError | undefined;
  /**
   * The batch taken from the aggregator and not yet confirmed by the store: it may or may not be in the store
   * (a write failed, or did not answer within the timeout and may still land), so it is retried as is, under its id.
   */
  private unconfirmed: Batch | undefined;

  constructor(
    private readonly aggregator: Aggregator,
    private readonly store: UsageStore,
    private readonly events: MeteringEmitter,
    private readonly logger: Logger,
    /** Its timeoutMs bounds each write (persist() gives up waiting; the write may still land); told when a write succeeds. */
    private readonly storeCalls: RequestStoreCalls,
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
   * waits for the next write, which includes its usage. Rejects when the store write fails or does not answer
   * within the timeout.
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
        await withinStoreTimeout(this.write(batch), this.storeCalls.timeoutMs, 'persist usage');
      } catch (cause) {
        // The write may have been applied and only its answer lost or late: the batch stays as it is, with its
        // id, and is retried first. The store skips a batch id it has applied, so nothing counts twice.
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

  /** One write of the batch. Its answer is applied whenever it comes, also after persist() stopped waiting for it. */
  private write(batch: Batch): Promise<AddUsageResult> {
    let landing: Promise<AddUsageResult>;
    try {
      landing = this.store.addUsage(batch.deltas, batch.id);
    } catch (cause) {
      landing = Promise.reject(cause);
    }
    return landing.then((result) => {
      this.storeCalls.answered();
      this.confirm(batch, result);
      return result;
    });
  }

  /** The store holds the batch: it is no longer retried. Only the write that applied it reports it. */
  private confirm(batch: Batch, { late, applied }: AddUsageResult): void {
    if (this.unconfirmed === batch) {
      this.unconfirmed = undefined;
      this.lastFailure = undefined;
    }
    if (applied === false) return;
    let quantity = 0;
    for (const delta of batch.deltas) quantity += delta.quantity;
    this.events.emit('persisted', { deltas: batch.deltas.length, quantity });
    if (late.length > 0) {
      this.logger.warn({ deltas: late.length }, 'usage arrived after its hour was frozen; it is counted in status, not sent');
      this.events.emit('late', { deltas: late });
    }
  }

  /** Takes the next batch out of the aggregator; it is unconfirmed until the store confirms it. */
  private nextBatch(): Batch | undefined {
    const deltas = this.aggregator.drain();
    if (deltas.length === 0) return undefined;
    this.unconfirmed = { id: randomUUID(), deltas };
    return this.unconfirmed;
  }
}
