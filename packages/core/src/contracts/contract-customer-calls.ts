import { ErrorCodes, MeterkitError } from '../errors';
import type { BoundCustomer } from '../meter/bound-customer';
import type { CustomerIdentity, CustomerRecord } from '../model/customer';
import type { CustomerDirectory } from '../registration/customer-directory';
import { isEntitlementStore, type EntitlementStore } from '../store/entitlement-store';
import { storeCall } from '../store/store-call';
import type { UsageStore } from '../store/usage-store';
import type { ContractEntitlements } from './contract-entitlements';
import type { EntitlementSet } from './entitlement-set';

export interface ContractCustomerCallsDeps {
  readonly directory: CustomerDirectory;
  readonly contracts: ContractEntitlements;
  /** The store, once open. */
  readonly store: () => Promise<UsageStore>;
}

/** The entitlement reads the engine answers for one contract customer, named by identity or registry record. */
export class ContractCustomerCalls {
  constructor(private readonly d: ContractCustomerCallsDeps) {}

  /** The entitlements stored for the customer, read from the store now; ERR_METERKIT_NOT_A_CONTRACT for a subscription product's. */
  async stored(customer: CustomerIdentity | CustomerRecord): Promise<EntitlementSet | undefined> {
    const bound = this.bound(customer);
    await this.d.store();
    return storeCall(() => this.d.contracts.cache.load(bound.key));
  }

  /**
   * Reads the customer's entitlements from AWS now and stores them; an empty answer revokes only after an end signal
   * applied to the customer. ERR_METERKIT_NOT_A_CONTRACT for a subscription product's customer.
   */
  async refresh(customer: CustomerIdentity | CustomerRecord, trigger: string): Promise<EntitlementSet | undefined> {
    const bound = this.bound(customer);
    if (typeof trigger !== 'string' || trigger.length === 0 || trigger.length > 256) throw new MeterkitError(ErrorCodes.OPTIONS, 'trigger must be a string of 1 to 256 characters.');
    const store = await this.d.store();
    const result = await storeCall(async () => {
      // An end signal already applied to the customer (deprovisioning, inactive) makes an empty read a revocation.
      const ended = this.d.contracts.isEnded(await store.getCustomer(bound.key));
      return this.d.contracts.refresh({ key: bound.key, identity: bound.identity, productCode: bound.product.productCode }, trigger, ended);
    });
    return result.set;
  }

  /** The customer, bound to its product, when the product is a contract; else ERR_METERKIT_NOT_A_CONTRACT. */
  private bound(customer: CustomerIdentity | CustomerRecord): BoundCustomer {
    const bound = this.d.directory.bind('identity' in customer ? customer.identity : customer);
    if (!this.d.contracts.isContractCustomer(bound)) {
      throw new MeterkitError(ErrorCodes.NOT_A_CONTRACT, `Product ${bound.product.productCode} is sold as a subscription: it has no contract entitlements.`, {
        details: { productCode: bound.product.productCode },
      });
    }
    return bound;
  }
}

/** The store as an EntitlementStore; undefined when it is not one (only subscription products are configured). */
export function entitlementStoreOf(opened: () => Promise<UsageStore>): () => Promise<EntitlementStore | undefined> {
  return () => opened().then((store) => (isEntitlementStore(store) ? store : undefined));
}
