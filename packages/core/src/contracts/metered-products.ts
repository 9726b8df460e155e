import type { Product } from '../model/product';

/** The products usage is metered for: every one but pure contracts, which send no metering records. */
export function meteredProducts(products: ReadonlyMap<string, Product>): ReadonlyMap<string, Product> {
  return new Map([...products].filter(([, product]) => product.pricing !== 'contract'));
}
