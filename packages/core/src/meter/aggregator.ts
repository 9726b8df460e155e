import { AwsLimits } from '../model/limits';
import type { Tags, UsageDelta } from '../model/usage';
import { tagsKey } from '../model/usage';
import type { BoundCustomer } from './bound-customer';

interface TaggedCell {
  readonly tags: Tags;
  quantity: number;
}

interface Cell {
  /** Sum over untagged and tagged usage; bounded by AWS's maximum quantity. */
  quantity: number;
  /** undefined until untagged usage (even 0) is recorded. */
  untagged: number | undefined;
  tagged: Map<string, TaggedCell> | undefined;
}

interface HourBucket {
  readonly customer: BoundCustomer;
  readonly hour: number;
  readonly cells: Map<string, Cell>;
}

export interface OverflowReport {
  readonly customerKey: string;
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: number;
}

/**
 * In-memory usage since the last persist, keyed customer → hour → dimension → tag set.
 * No key string is built on the hot path: the customer and hour maps are looked up once per commit.
 */
export class Aggregator {
  private customers = new Map<string, Map<number, HourBucket>>();
  private pendingCells = 0;

  /** Number of (customer, hour, dimension) cells waiting to be persisted. */
  get size(): number {
    return this.pendingCells;
  }

  /**
   * Adds a request's records. Records that would push an hour's total past AWS's maximum quantity are
   * not added and are returned, so the caller can report them.
   */
  add(
    customer: BoundCustomer,
    hour: number,
    dimensions: readonly string[],
    quantities: readonly number[],
    tags: ReadonlyArray<Tags | undefined> | undefined,
    count: number,
  ): OverflowReport[] | undefined {
    let hours = this.customers.get(customer.key);
    if (hours === undefined) {
      hours = new Map();
      this.customers.set(customer.key, hours);
    }
    let bucket = hours.get(hour);
    if (bucket === undefined) {
      bucket = { customer, hour, cells: new Map() };
      hours.set(hour, bucket);
    }
    let overflow: OverflowReport[] | undefined;
    for (let i = 0; i < count; i++) {
      const dimension = dimensions[i]!;
      const quantity = quantities[i]!;
      let cell = bucket.cells.get(dimension);
      if (cell === undefined) {
        cell = { quantity: 0, untagged: undefined, tagged: undefined };
        bucket.cells.set(dimension, cell);
        this.pendingCells++;
      }
      if (cell.quantity + quantity > AwsLimits.maxQuantity) {
        (overflow ??= []).push({ customerKey: customer.key, dimension, hour, quantity });
        continue;
      }
      cell.quantity += quantity;
      const recordTags = tags === undefined ? undefined : tags[i];
      if (recordTags === undefined) {
        cell.untagged = (cell.untagged ?? 0) + quantity;
      } else {
        const key = tagsKey(recordTags);
        cell.tagged ??= new Map();
        const tagged = cell.tagged.get(key);
        if (tagged === undefined) cell.tagged.set(key, { tags: recordTags, quantity });
        else tagged.quantity += quantity;
      }
    }
    return overflow;
  }

  /** Takes everything aggregated so far as store deltas and starts afresh. */
  drain(): UsageDelta[] {
    if (this.pendingCells === 0) return [];
    const drained = this.customers;
    this.customers = new Map();
    this.pendingCells = 0;
    const deltas: UsageDelta[] = [];
    for (const hours of drained.values()) {
      for (const bucket of hours.values()) {
        const { identity, key, product } = bucket.customer;
        for (const [dimension, cell] of bucket.cells) {
          const base = { customer: identity, customerKey: key, productCode: product.productCode, dimension, hour: bucket.hour };
          if (cell.untagged !== undefined) deltas.push({ ...base, tagsKey: '', quantity: cell.untagged });
          if (cell.tagged !== undefined) {
            for (const [tagKey, tagged] of cell.tagged) {
              deltas.push({ ...base, tagsKey: tagKey, tags: tagged.tags, quantity: tagged.quantity });
            }
          }
        }
      }
    }
    return deltas;
  }
}
