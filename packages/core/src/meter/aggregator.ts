import { ErrorCodes, MeterkitError } from '../errors';
import { AwsLimits } from '../model/limits';
import type { Product } from '../model/product';
import type { Tags, UsageDelta } from '../model/usage';
import { tagsKey } from '../model/usage';
import type { BoundCustomer } from './bound-customer';

/** A column's value for a customer that recorded no untagged usage of that dimension (0 is usage: a zero record). */
const NONE = -1;

interface TaggedCells {
  /** Sum over the tag sets, for the bound on the cell's total. */
  sum: number;
  readonly byKey: Map<string, { readonly tags: Tags; quantity: number }>;
}

/**
 * One product's usage in one hour, as columns: a row per customer, a column per dimension recorded. A live
 * aggregate is a number in a column plus the customer's row, so memory grows by a few words per aggregate.
 */
/** Ids of tables, unique in the process. */
let tables = 0;

class HourTable {
  readonly id = ++tables;
  /** Customer key → row. */
  readonly rows = new Map<string, number>();
  readonly customers: BoundCustomer[] = [];
  /** Untagged quantity per dimension index, then row; NONE where nothing was recorded. Created on first use. */
  readonly columns: Array<number[] | undefined>;
  /** Tagged usage by cell (row × dimensions + dimension index); rare, so kept apart. */
  tagged: Map<number, TaggedCells> | undefined;
  /** Cells holding usage not drained yet. */
  pending = 0;

  constructor(
    readonly product: Product,
    readonly hour: number,
    readonly dimensions: readonly string[],
    readonly dimensionIndex: ReadonlyMap<string, number>,
  ) {
    this.columns = new Array<number[] | undefined>(dimensions.length).fill(undefined);
  }

  row(customer: BoundCustomer): number {
    if (customer.rowTable === this.id) return customer.row!;
    // Another bound object of the same customer (the directory renewed its cache) shares the row: one cell per key.
    let row = this.rows.get(customer.key);
    if (row === undefined) {
      row = this.customers.length;
      this.rows.set(customer.key, row);
      this.customers.push(customer);
      for (const column of this.columns) if (column !== undefined) column.push(NONE);
    }
    customer.rowTable = this.id;
    customer.row = row;
    return row;
  }

  column(dimension: number): number[] {
    let column = this.columns[dimension];
    if (column === undefined) {
      column = new Array<number>(this.customers.length).fill(NONE);
      this.columns[dimension] = column;
    }
    return column;
  }
}

const indexes = new WeakMap<Product, { dimensions: readonly string[]; index: ReadonlyMap<string, number> }>();

function dimensionsOf(product: Product): { dimensions: readonly string[]; index: ReadonlyMap<string, number> } {
  let known = indexes.get(product);
  if (known === undefined) {
    const dimensions = [...product.dimensions];
    known = { dimensions, index: new Map(dimensions.map((d, i) => [d, i])) };
    indexes.set(product, known);
  }
  return known;
}

export interface OverflowReport {
  readonly customerKey: string;
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: number;
}

/**
 * In-memory usage since the last persist, per product and hour, customer and dimension, tag set.
 * No key string is built on the hot path: the table is found by identity, the row by the customer's key.
 *
 * Draining is sliced: drain(limit) takes at most `limit` deltas from tables that were cut (sealed) from the
 * aggregator, so that no synchronous step grows with the number of aggregates. A sealed table is no longer
 * written: usage added after the cut goes into new tables (the same product and hour get a new one), so each
 * delta is either in a drained slice or still in the aggregator, never both.
 */
export class Aggregator {
  /** Tables add() writes into. */
  private tables: HourTable[] = [];
  /** Tables cut from the aggregator, oldest first, drained from the front; add() never writes into them. */
  private sealed: HourTable[] = [];
  /** The next cell (row × dimensions + dimension index) of sealed[0] to drain. */
  private cursor = 0;
  /** The table of the last add(): requests of one product in one hour find it without a search. */
  private last: HourTable | undefined;
  private pendingCells = 0;
  private sealedCells = 0;

  /** Number of (customer, hour, dimension) cells waiting to be persisted. */
  get size(): number {
    return this.pendingCells;
  }

  /** Number of those cells in sealed tables: what drain() takes from before it cuts again. */
  get sealedSize(): number {
    return this.sealedCells;
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
    const table = this.table(customer.product, hour);
    const row = table.row(customer);
    let overflow: OverflowReport[] | undefined;
    for (let i = 0; i < count; i++) {
      const dimension = dimensions[i]!;
      const quantity = quantities[i]!;
      const d = table.dimensionIndex.get(dimension);
      // The request meter validated the dimension against this product.
      if (d === undefined) throw new MeterkitError(ErrorCodes.UNKNOWN_DIMENSION, `${dimension} is not a dimension of product ${customer.product.productCode}.`);
      const column = table.column(d);
      const untagged = column[row]!;
      const cell = row * table.dimensions.length + d;
      const taggedCells = table.tagged?.get(cell);
      const total = (untagged === NONE ? 0 : untagged) + (taggedCells?.sum ?? 0);
      if (total + quantity > AwsLimits.maxQuantity) {
        (overflow ??= []).push({ customerKey: customer.key, dimension, hour, quantity });
        continue;
      }
      if (untagged === NONE && taggedCells === undefined) {
        this.pendingCells++;
        table.pending++;
      }
      const recordTags = tags === undefined ? undefined : tags[i];
      if (recordTags === undefined) {
        column[row] = (untagged === NONE ? 0 : untagged) + quantity;
        continue;
      }
      const key = tagsKey(recordTags);
      let cells = taggedCells;
      if (cells === undefined) {
        cells = { sum: 0, byKey: new Map() };
        (table.tagged ??= new Map()).set(cell, cells);
      }
      cells.sum += quantity;
      const same = cells.byKey.get(key);
      if (same === undefined) cells.byKey.set(key, { tags: recordTags, quantity });
      else same.quantity += quantity;
    }
    return overflow;
  }

  /**
   * Cuts everything aggregated so far from the aggregator: later drain() calls take it, and usage added from now
   * on goes into new tables. Costs one step per table (a product and hour), whatever the number of aggregates.
   */
  seal(): void {
    for (const table of this.tables) {
      if (table.pending === 0) continue;
      this.sealed.push(table);
      this.sealedCells += table.pending;
    }
    this.tables = [];
    this.last = undefined;
  }

  /**
   * Takes at most `limit` deltas (default: all) of the sealed usage, oldest table first, and removes them from the
   * aggregator; the rest stays sealed for the next call. When nothing is sealed, seals everything first. The
   * synchronous work grows with `limit` (and the product's dimension count), not with the aggregator's size.
   */
  drain(limit = Number.POSITIVE_INFINITY): UsageDelta[] {
    const deltas: UsageDelta[] = [];
    if (this.pendingCells === 0 || !(limit >= 1)) return deltas;
    if (this.sealedCells === 0) this.seal();
    while (deltas.length < limit) {
      const table = this.sealed[0];
      if (table === undefined) break;
      if (table.pending === 0) {
        // Drained: no longer reachable from here.
        this.sealed.shift();
        this.cursor = 0;
        continue;
      }
      this.cursor = this.drainTable(table, this.cursor, limit, deltas);
    }
    return deltas;
  }

  /** Appends the table's cells from `cursor` on to `deltas` until `limit`; returns the next cell to drain. */
  private drainTable(table: HourTable, cursor: number, limit: number, deltas: UsageDelta[]): number {
    const { product, hour, dimensions, columns, tagged, customers } = table;
    const width = dimensions.length;
    const end = customers.length * width;
    let cell = cursor;
    for (; cell < end && deltas.length < limit && table.pending > 0; cell++) {
      const row = Math.floor(cell / width);
      const d = cell - row * width;
      const column = columns[d];
      const untagged = column === undefined ? NONE : column[row]!;
      const cells = tagged?.get(cell);
      if (untagged === NONE && cells === undefined) continue;
      const { identity, key } = customers[row]!;
      const dimension = dimensions[d]!;
      if (untagged !== NONE) {
        deltas.push({ customer: identity, customerKey: key, productCode: product.productCode, dimension, hour, tagsKey: '', quantity: untagged });
        column![row] = NONE;
      }
      if (cells !== undefined) {
        for (const [tagKey, entry] of cells.byKey) {
          // The cell's other tag sets go to the next call: the table is sealed, so they wait unchanged.
          if (deltas.length >= limit) return cell;
          deltas.push({ customer: identity, customerKey: key, productCode: product.productCode, dimension, hour, tagsKey: tagKey, tags: entry.tags, quantity: entry.quantity });
          cells.byKey.delete(tagKey);
        }
        tagged!.delete(cell);
      }
      table.pending--;
      this.pendingCells--;
      this.sealedCells--;
    }
    return cell;
  }

  private table(product: Product, hour: number): HourTable {
    const last = this.last;
    if (last !== undefined && last.product === product && last.hour === hour) return last;
    let found = this.tables.find((t) => t.product === product && t.hour === hour);
    if (found === undefined) {
      const { dimensions, index } = dimensionsOf(product);
      found = new HourTable(product, hour, dimensions, index);
      this.tables.push(found);
    }
    this.last = found;
    return found;
  }
}
