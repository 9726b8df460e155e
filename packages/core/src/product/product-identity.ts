import { ErrorCodes, MeterkitError } from '../errors';
import type { ProductIdentity } from '../model/customer';
import type { Product } from '../model/product';

/** The identity of a running AMI or container product. */
export function productIdentity(productCode: string): ProductIdentity {
  return { kind: 'product', productCode };
}

/**
 * The product a product meter records for: the given code, or the only product configured with
 * `identity: 'product'`.
 */
export function productFor(products: ReadonlyMap<string, Product>, productCode?: string): Product {
  if (productCode !== undefined) {
    const product = products.get(productCode);
    if (product === undefined) {
      throw new MeterkitError(ErrorCodes.UNKNOWN_PRODUCT, `Product ${String(productCode)} is not in this app's \`products\`.`, {
        awsException: 'InvalidProductCodeException',
      });
    }
    if (product.identity !== 'product') {
      throw new MeterkitError(ErrorCodes.OPTIONS, `Product ${productCode} is metered per buyer: configure it with identity: 'product' to meter the running product.`);
    }
    return product;
  }
  const candidates = [...products.values()].filter((p) => p.identity === 'product');
  if (candidates.length !== 1) {
    throw new MeterkitError(
      ErrorCodes.OPTIONS,
      candidates.length === 0
        ? "No product is configured with identity: 'product': product meters need an AMI or container product."
        : 'Several products use identity: \'product\': name the product code.',
    );
  }
  return candidates[0]!;
}

/** True when every configured product is metered per running product: tenants then play no part in billing. */
export function productModeOnly(products: ReadonlyMap<string, Product>): boolean {
  for (const product of products.values()) if (product.identity !== 'product') return false;
  return true;
}
