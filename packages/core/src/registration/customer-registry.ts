import { ErrorCodes, MeterkitError } from '../errors';
import { updateCustomer } from '../lifecycle/update-customer';
import { customerKey, type CustomerRecord } from '../model/customer';
import { storeCall } from '../store/store-call';
import type { UsageStore } from '../store/usage-store';
import type { CustomerDirectory } from './customer-directory';
import type { Registration } from './resolve-registration';

export interface CustomerRegistryDeps {
  readonly directory: CustomerDirectory;
  readonly registration: Registration;
  /** The store, once open. */
  readonly store: () => Promise<UsageStore>;
  readonly clock: () => number;
}

/**
 * Writes to the customer registry: registrations resolved, tenants linked, customers put by the seller. Each write is
 * conditional on the customer as read, and the directory forgets what it cached once the write is done.
 */
export class CustomerRegistry {
  constructor(private readonly d: CustomerRegistryDeps) {}

  /** Resolves a registration token (ResolveCustomer) and stores the customer. */
  async resolve(token: unknown): Promise<CustomerRecord> {
    await this.d.store();
    const customer = await storeCall(() => this.d.registration.resolve(token));
    this.d.directory.learn(customer);
    this.d.directory.forget();
    return customer;
  }

  /** Links a registered customer to a tenant id; ERR_METERKIT_UNKNOWN_CUSTOMER when no customer has this key. */
  async linkTenant(key: string, tenantId: string): Promise<CustomerRecord> {
    if (typeof tenantId !== 'string' || tenantId.length === 0) throw new MeterkitError(ErrorCodes.OPTIONS, 'tenantId must be a non-empty string.');
    const store = await this.d.store();
    // Conditional on the customer as read, so that a lifecycle change applied meanwhile is kept.
    let linked!: CustomerRecord;
    await storeCall(() =>
      updateCustomer(store, key, (customer) => {
        if (customer === undefined) throw new MeterkitError(ErrorCodes.UNKNOWN_CUSTOMER, 'No registered customer has this key.');
        return { result: undefined, write: { ...customer, tenantId, updatedAt: this.d.clock() }, afterWrite: (written) => (linked = written) };
      }),
    );
    this.d.directory.forget('tenants');
    return linked;
  }

  /**
   * Stores or replaces a customer, written over the customer as read: the time and ids of the lifecycle events
   * already applied are kept unless given; registeredAt is kept unless given.
   */
  async put(
    customer: Omit<CustomerRecord, 'key' | 'registeredAt' | 'updatedAt' | 'version'> & Partial<Pick<CustomerRecord, 'registeredAt'>>,
  ): Promise<CustomerRecord> {
    this.d.directory.learn(customer);
    this.d.directory.bind(customer.identity);
    const store = await this.d.store();
    const key = customerKey(customer.identity);
    const { version: _assigned, ...fields } = customer as Partial<CustomerRecord>;
    let stored!: CustomerRecord;
    await storeCall(() =>
      updateCustomer(store, key, (current) => {
        const now = this.d.clock();
        const applied =
          current === undefined
            ? {}
            : {
                lastEventAt: current.lastEventAt,
                lastStatusEventAt: current.lastStatusEventAt,
                lastActivationAt: current.lastActivationAt,
                finalUsageOpenedAt: current.finalUsageOpenedAt,
                recentEventIds: current.recentEventIds,
              };
        const write = { ...withoutUndefined(applied), ...fields, key, registeredAt: customer.registeredAt ?? current?.registeredAt ?? now, updatedAt: now } as CustomerRecord;
        return { result: undefined, write, afterWrite: (written) => (stored = written) };
      }),
    );
    this.d.directory.forget();
    return stored;
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
