import type { CustomerIdentity } from '../model/customer';
import type { Product } from '../model/product';

/** A customer validated once against its product, reused by every request meter of that customer. */
export interface BoundCustomer {
  readonly identity: CustomerIdentity;
  readonly key: string;
  readonly product: Product;
}
