import { hourOf, submissionDeadline, METER_USAGE_WINDOW } from '../../src';
import type { Slot } from '../support/engine-harness';

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** After a flush with faults, released records may wait (backoff, configuration pause) this long. */
export const AFTER_FAULTS_MS = 6 * MINUTE;
/** A correct engine has a product hour due this long before MeterUsage's window closes, whatever the lock. */
export const PRODUCT_DUE_MARGIN_MS = 30 * MINUTE;
/** Previous-month hours are due this long before the month-end cutoff, whatever the lock. */
export const MONTH_END_DUE_MARGIN_MS = 3 * HOUR;

/** What AWS was told about a key before meterkit sent it (a record from somewhere else). */
export interface SeededPrior {
  readonly quantity: number;
  /** Legacy buyer seeded by account id instead of CustomerIdentifier. */
  readonly byAccount: boolean;
  readonly tagged: boolean;
}

/** One (customer, dimension, hour) of the reference model. */
export interface ModelKey {
  readonly slot: Slot;
  readonly dimension: string;
  readonly hour: number;
  /** Units committed by requests (or set as a total) and not lost to a documented crash. */
  promised: number;
  /** Of `promised`, units still only in the instance's memory (durability 'interval'). */
  unpersisted: number;
  /** Units that reached the record after it was frozen (reported by the `late` event; not sent by design). */
  late: number;
  seeded?: SeededPrior;
  /** A call that may have applied without an answer (5xx, reset, lost answer) may have carried it. */
  ambiguous: boolean;
  /** A healthy flush ran while the key was due and inside its window: it must have been sent. */
  obligated: boolean;
  /** A total handed in with setTotal(). */
  total: boolean;
}

export interface ModelOptions {
  readonly lockMs: number;
  readonly durability: 'interval' | 'sync';
  readonly crashes: boolean;
}

/** The plain reference: what each committed request promised per key, and what AWS was told by others. */
export class Model {
  readonly keys = new Map<string, ModelKey>();
  now: number;
  lastFaultyFlushAt = Number.NEGATIVE_INFINITY;
  /** Customers that had a lifecycle event telling meterkit to stop metering them. */
  readonly stopped = new Set<Slot>();
  /** Seeds AWS refused because meterkit had sent the key first (each leaves one DuplicateRecord row at AWS). */
  readonly refusedSeeds: Array<{ slot: Slot; dimension: string; hour: number; byAccount: boolean }> = [];
  /** Lifecycle events applied so far, to redeliver. */
  readonly deliveries: Array<{ slot: Slot; kind: string; at: number; id: string }> = [];

  constructor(
    readonly options: ModelOptions,
    start: number,
  ) {
    this.now = start;
  }

  static id(slot: Slot, dimension: string, hour: number): string {
    return `${slot}|${dimension}|${hour}`;
  }

  key(slot: Slot, dimension: string, hour: number): ModelKey {
    const id = Model.id(slot, dimension, hour);
    let key = this.keys.get(id);
    if (key === undefined) {
      key = { slot, dimension, hour, promised: 0, unpersisted: 0, late: 0, ambiguous: false, obligated: false, total: false };
      this.keys.set(id, key);
    }
    return key;
  }

  currentHour(): number {
    return hourOf(this.now);
  }

  commit(slot: Slot, quantities: ReadonlyArray<{ dimension: string; quantity: number }>): void {
    for (const { dimension, quantity } of quantities) {
      const key = this.key(slot, dimension, this.currentHour());
      key.promised += quantity;
      if (this.options.durability === 'interval') key.unpersisted += quantity;
    }
  }

  persisted(): void {
    for (const key of this.keys.values()) key.unpersisted = 0;
  }

  /** The process died at a quiescent point (no call under way): usage only in memory is gone (durability 'interval'). */
  crashed(): void {
    for (const key of this.keys.values()) {
      key.promised -= key.unpersisted;
      key.unpersisted = 0;
    }
  }

  /**
   * Calls carrying these keys got no definite answer (no answer at all, or a 5xx): AWS may hold them, and the engine
   * cannot tell. Only the keys a call carried, as read from its request: no other key can be at AWS.
   */
  mayHaveLanded(carried: Iterable<{ slot: Slot; dimension: string; hour: number }>): void {
    for (const { slot, dimension, hour } of carried) {
      const key = this.keys.get(Model.id(slot, dimension, hour));
      if (key === undefined) throw new Error(`a call carried ${Model.id(slot, dimension, hour)}, which no request promised`);
      if (this.now < Model.deadline(key)) key.ambiguous = true;
    }
  }

  /**
   * The process died in the middle of a flush (its persist step done), while a call carrying `carried` was on the
   * wire or its answer on the way back: AWS may hold those keys (still inside their window), and the next instance
   * cannot tell. A call still waiting for its send slot carried nothing. The dead instance's claims keep their
   * records from the next one until their lease runs out, as records released after a faulty flush wait.
   */
  crashedMidSend(carried: Iterable<{ slot: Slot; dimension: string; hour: number }>): void {
    this.persisted();
    this.crashed();
    this.lastFaultyFlushAt = this.now;
    this.mayHaveLanded(carried);
  }

  /** Last moment AWS accepts the key. */
  static deadline(key: Pick<ModelKey, 'slot' | 'hour'>): number {
    return key.slot === 'product' ? submissionDeadline(key.hour, METER_USAGE_WINDOW) : submissionDeadline(key.hour);
  }

  /** When a correct engine has the key due at the latest: after the lock, but early enough to make its window. */
  readyAt(key: ModelKey): number {
    const deadline = Model.deadline(key);
    const closed = key.hour + HOUR;
    const margin = key.slot === 'product' ? PRODUCT_DUE_MARGIN_MS : MONTH_END_DUE_MARGIN_MS;
    return Math.min(closed + this.options.lockMs, Math.max(closed, deadline - margin));
  }

  /**
   * A flush at `now`: healthy ones oblige every due key in its window; after faulty ones records may wait. The keys
   * of its calls without a definite answer are `uncertain` (mayHaveLanded()).
   */
  flushed(faulty: boolean, uncertain: Iterable<{ slot: Slot; dimension: string; hour: number }>): void {
    this.persisted();
    this.mayHaveLanded(uncertain);
    if (faulty) {
      this.lastFaultyFlushAt = this.now;
      return;
    }
    if (this.now < this.lastFaultyFlushAt + AFTER_FAULTS_MS) return;
    for (const key of this.keys.values()) {
      if (this.now >= this.readyAt(key) && this.now < Model.deadline(key)) key.obligated = true;
    }
  }
}
