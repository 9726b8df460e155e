import { ErrorCodes, MeterkitError } from '../errors';
import { isContract, type Product } from '../model/product';
import { isEntitlementStore } from '../store/entitlement-store';
import type { UsageStore } from '../store/usage-store';

/** A contract product keeps its entitlements in the store: one that cannot is refused when the engine is created. */
export function assertContractStore(products: ReadonlyMap<string, Product>, store: UsageStore): void {
  const contract = [...products.values()].find(isContract);
  if (contract === undefined || isEntitlementStore(store)) return;
  throw new MeterkitError(
    ErrorCodes.OPTIONS,
    `Product ${contract.productCode} is a contract, and the ${store.kind} store does not keep entitlements (putEntitlements, getEntitlements, ` +
      'listEntitlements, addUsageAboveIncluded, listAllowanceCounters): use a store meterkit ships, or implement EntitlementStore.',
  );
}
