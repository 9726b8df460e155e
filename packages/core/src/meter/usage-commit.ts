import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import { mask, type Logger } from '../logger';
import { AwsLimits } from '../model/limits';
import type { Tags } from '../model/usage';
import type { ResolvedOptions } from '../options';
import type { RequestStoreCalls } from '../store/store-timeout';
import type { UsageStore } from '../store/usage-store';
import type { Aggregator } from './aggregator';
import type { BoundCustomer } from './bound-customer';
import type { Persister } from './persister';
import { COMMITTED, type MeterSink } from './request-meter';

const RESOLVED = COMMITTED;

export interface UsageCommitDeps {
  readonly aggregator: Aggregator;
  readonly persister: Persister;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly options: Pick<ResolvedOptions, 'durability' | 'syncGatherMs' | 'failOpen'>;
  /** The store calls requests wait for, bounded by storeTimeoutMs. */
  readonly storeCalls: RequestStoreCalls;
  /** The store, once open. */
  readonly store: () => Promise<UsageStore>;
  /** Whether close() was called: commits after it are refused. */
  readonly closed: () => boolean;
}

/**
 * Where request meters commit: usage is added to the aggregator (what would overflow an AWS record is refused and
 * reported), `recorded` is emitted, and with `sync` durability the commit waits for the store.
 */
export class UsageCommit implements MeterSink {
  private overflow = 0;
  /** With `sync` durability: the persist the last commits of this turn joined, and their wait. */
  private group: { readonly persist: Promise<void>; readonly wait: Promise<void> } | undefined;
  private storeOpen = false;

  constructor(private readonly d: UsageCommitDeps) {}

  /** Units refused because an hour's total would exceed what one AWS record can carry. */
  get overflowQuantity(): number {
    return this.overflow;
  }

  commit(
    customer: BoundCustomer,
    hour: number,
    dimensions: readonly string[],
    quantities: readonly number[],
    tags: ReadonlyArray<Tags | undefined> | undefined,
    count: number,
  ): Promise<void> {
    const d = this.d;
    if (d.closed()) {
      const error = new MeterkitError(ErrorCodes.CLOSED, `A request committed ${count} records after close(): they were not kept.`);
      d.logger.error({ code: error.code, records: count }, error.message);
      d.events.emit('error', { error });
      return RESOLVED;
    }
    const overflow = d.aggregator.add(customer, hour, dimensions, quantities, tags, count);
    if (overflow !== undefined) this.reportOverflow(overflow);
    if (d.events.hearsRecorded) {
      let quantity = 0;
      for (let i = 0; i < count; i++) quantity += quantities[i]!;
      d.events.emit('recorded', { customerKey: customer.key, hour, records: count, quantity });
    }
    if (d.options.durability === 'interval') return RESOLVED;
    if (!this.storeOpen) {
      return this.waitFor(
        d.store().then(() => {
          this.storeOpen = true;
          return d.persister.persist(d.options.syncGatherMs);
        }),
      );
    }
    // Commits the Persister puts in one group (the same round, starting after all of them) share one bounded wait.
    const persist = d.persister.persist(d.options.syncGatherMs);
    const group = this.group;
    if (group !== undefined && group.persist === persist) return group.wait;
    const wait = this.waitFor(persist);
    this.group = { persist, wait };
    // A group waiting across turns (behind a running write) is joined from one turn only: each commit's wait is
    // bounded by storeTimeoutMs from its own turn.
    setImmediate(() => {
      if (this.group?.wait === wait) this.group = undefined;
    });
    return wait;
  }

  /**
   * Bounded: past storeTimeoutMs the request is answered and the usage stays queued (in memory, or as the
   * unconfirmed batch the Persister retries under the same id) for the next persist.
   */
  private waitFor(persist: Promise<void>): Promise<void> {
    const d = this.d;
    return d.storeCalls.wait(persist, 'persist usage before answering').catch((error: unknown) => {
      if (!d.options.failOpen) throw error;
    });
  }

  private reportOverflow(overflow: ReadonlyArray<{ customerKey: string; dimension: string; quantity: number }>): void {
    for (const item of overflow) {
      this.overflow += item.quantity;
      const error = new MeterkitError(
        ErrorCodes.QUANTITY_OVERFLOW,
        `An hour's total for ${item.dimension} would exceed ${AwsLimits.maxQuantity}, the most one AWS record can carry; ${item.quantity} units were refused. Meter in a larger unit.`,
        { details: { dimension: item.dimension, quantity: item.quantity } },
      );
      this.d.logger.error({ code: error.code, customer: mask(item.customerKey), dimension: item.dimension, quantity: item.quantity }, error.message);
      this.d.events.emit('error', { error });
    }
  }
}
