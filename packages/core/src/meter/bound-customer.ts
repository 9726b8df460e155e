import type { CustomerIdentity } from '../model/customer';
import type { Product } from '../model/product';

/** A customer validated once against its product, reused by every request meter of that customer. */
export interface BoundCustomer {
  readonly identity: CustomerIdentity;
  readonly key: string;
  readonly product: Product;
  /**
   * The id of the aggregator's table this customer last recorded into, and its row there, so that the next request
   * of the same hour finds its row without a key lookup. The aggregator's own bookkeeping (an id, not the table: a
   * drained table must not stay reachable).
   */
  rowTable?: number;
  row?: number;
}

/** A bound customer with the aggregator's fields in place from the start, so every one has the same shape. */
export function boundCustomer(identity: CustomerIdentity, key: string, product: Product): BoundCustomer {
  return { identity, key, product, rowTable: -1, row: -1 };
}
