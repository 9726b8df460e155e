import { randomUUID } from 'node:crypto';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import type { UsageDelta } from '../model/usage';
import { withinStoreTimeout, type RequestStoreCalls } from '../store/store-timeout';
import { yieldToEventLoop } from '../store/yield-to-event-loop';
import type { AddUsageResult, UsageStore } from '../store/usage-store';
import { isEntitlementStore } from '../store/entitlement-store';
import type { Aggregator } from './aggregator';
import { hasIncludedUsage, splitIncluded, type ConsumptionSources, type IncludedSplit } from './included-usage';

interface Batch {
  readonly id: string;
  readonly deltas: readonly UsageDelta[];
  /**
   * Batches holding usage of included dimensions (contracts with consumption): the split read for the batch's first
   * write, kept for its retries, so that every write of the batch measures it against the same included amounts.
   * Forgotten when the read fails, to be read again by the retry.
   */
  split?: Promise<IncludedSplit>;
}

/**
 * Deltas per store write by default: one write's synchronous work (a SQLite transaction) stays at a few ms. Chunks
 * of 100 gave a SQLite persist p99 event-loop delay of 13 ms where chunks of 200 gave 17 to 20, in the same total time.
 */
export const DEFAULT_PERSIST_CHUNK = 100;

/**
 * Moves aggregated usage into the store as atomic increments, one write at a time, in chunks of at most
 * `chunkSize` deltas, each chunk drained from the aggregator just before its write, its own batch under its own id,
 * yielding to the event loop between chunks: no synchronous step grows with the number of aggregates.
 * A failed or unanswered chunk is retried as the same batch, before any later chunk or newer usage: nothing is
 * dropped, and nothing counts twice.
 *
 * A batch holding usage of a dimension an entitlement includes (contracts with consumption) is written with
 * addUsageAboveIncluded() under the same id and rules: the store counts it against the period's allowance and
 * meters only the part above what the customer's entitlement set, as read for the batch, includes.
 */
export class Persister {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** A round waiting out its gather window: callers join it. */
  private gathering: Promise<void> | undefined;
  private lastFailure: MeterkitError | undefined;
  /**
   * Batches taken from the aggregator and not yet confirmed by the store, oldest first: in practice the one whose
   * write failed or did not answer within the timeout (it may still land), retried as is, under its id, before the
   * aggregator is drained further.
   */
  private readonly unconfirmed: Batch[] = [];
  private readonly chunkSize: number;

  constructor(
    private readonly aggregator: Aggregator,
    private readonly store: UsageStore,
    private readonly events: MeteringEmitter,
    private readonly logger: Logger,
    /** Its timeoutMs bounds each write (persist() gives up waiting; the write may still land); told when a write succeeds. */
    private readonly storeCalls: RequestStoreCalls,
    /** Most deltas in one store write. Default DEFAULT_PERSIST_CHUNK. */
    chunkSize: number = DEFAULT_PERSIST_CHUNK,
    /** Contracts with consumption: what products include and the customers' entitlement sets. Default: none. */
    private readonly consumption?: ConsumptionSources,
  ) {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
    this.chunkSize = chunkSize;
  }

  /** Aggregates and deltas not yet confirmed in the store. */
  get pending(): number {
    let deltas = 0;
    for (const batch of this.unconfirmed) deltas += batch.deltas.length;
    return this.aggregator.size + deltas;
  }

  /** The error of the last write if it failed, until a write succeeds. */
  get failure(): MeterkitError | undefined {
    return this.lastFailure;
  }

  /**
   * Writes everything aggregated so far, in rounds. A round writes the batches queued when it starts (the
   * unconfirmed ones first, then what the aggregator held at the start, sealed then drained a chunk at a time) and
   * ends; a call made while a round runs waits for the next round, which includes its usage, so under steady load
   * no caller waits for more than two rounds. Rejects when a store write fails or does not answer within the timeout; the batches not
   * confirmed stay queued, in order.
   *
   * With `gatherMs` (group commit), a call that finds no round running does not start one itself: it waits until
   * the end of the current turn of the event loop (0: the check phase that follows the turn's I/O callbacks, so
   * every call made while the turn's requests were read joins), or `gatherMs` milliseconds (> 0), and calls made
   * meanwhile join it: concurrent callers share one write instead of each starting its own. Without it (undefined)
   * a round starts at once.
   */
  persist(gatherMs?: number): Promise<void> {
    if (this.gathering !== undefined) return this.gathering;
    if (this.running === undefined) {
      if (gatherMs !== undefined) {
        this.gathering = new Promise<void>((resolve) => {
          if (gatherMs > 0) setTimeout(resolve, gatherMs);
          else setImmediate(resolve);
        }).then(() => {
          this.gathering = undefined;
          return this.persist();
        });
        return this.gathering;
      }
      this.running = this.writeRound().finally(() => {
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

  private async writeRound(): Promise<void> {
    const retries = [...this.unconfirmed];
    // What this round writes of the aggregator: usage added while it runs goes to the next round.
    this.aggregator.seal();
    let writes = 0;
    for (const batch of retries) {
      // A write of it that had timed out may have landed since.
      if (!this.unconfirmed.includes(batch)) continue;
      if (writes++ > 0) await yieldToEventLoop();
      await this.writeOrThrow(batch);
    }
    while (this.aggregator.sealedSize > 0) {
      if (writes++ > 0) await yieldToEventLoop();
      // Sealed content stays sealed while the loop yields, so this drains this round's usage only.
      if (this.aggregator.sealedSize === 0) break;
      const deltas = this.aggregator.drain(this.chunkSize);
      if (deltas.length === 0) break;
      const batch: Batch = { id: randomUUID(), deltas };
      this.unconfirmed.push(batch);
      await this.writeOrThrow(batch);
    }
  }

  private async writeOrThrow(batch: Batch): Promise<void> {
    try {
      await withinStoreTimeout(this.write(batch), this.storeCalls.timeoutMs, 'persist usage');
    } catch (cause) {
      // The write may have been applied and only its answer lost or late: the batch stays first in line as it
      // is, with its id, and is retried before anything else. The store skips a batch id it has applied, so nothing counts twice.
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

  /** One write of the batch. Its answer is applied whenever it comes, also after persist() stopped waiting for it. */
  private write(batch: Batch): Promise<AddUsageResult> {
    let landing: Promise<AddUsageResult>;
    try {
      const consumption = this.consumption;
      landing =
        consumption !== undefined && (batch.split !== undefined || hasIncludedUsage(batch.deltas, consumption))
          ? this.writeAboveIncluded(batch, consumption)
          : this.store.addUsage(batch.deltas, batch.id);
    } catch (cause) {
      landing = Promise.reject(cause);
    }
    return landing.then((result) => {
      this.storeCalls.answered();
      this.confirm(batch, result);
      return result;
    });
  }

  private async writeAboveIncluded(batch: Batch, consumption: ConsumptionSources): Promise<AddUsageResult> {
    const store = this.store;
    if (!isEntitlementStore(store)) {
      throw new MeterkitError(ErrorCodes.STORE, `The ${store.kind} store cannot meter usage above what contracts include: it does not implement EntitlementStore.`);
    }
    const reading = (batch.split ??= splitIncluded(batch.deltas, consumption).catch((cause: unknown) => {
      batch.split = undefined;
      throw cause;
    }));
    const split = await reading;
    return store.addUsageAboveIncluded(split.deltas, split.uses, batch.id);
  }

  /** The store holds the batch: it is no longer retried. Only the write that applied it reports it. */
  private confirm(batch: Batch, { late, applied, untagged }: AddUsageResult): void {
    const index = this.unconfirmed.indexOf(batch);
    if (index >= 0) {
      this.unconfirmed.splice(index, 1);
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
    if (untagged !== undefined && untagged.length > 0) {
      this.logger.warn({ deltas: untagged.length }, 'usage carried more tag sets than the store keeps per record; it is billed untagged');
    }
  }
}
