import type { StoredRecord, UsageStore } from '../usage-store';

export type StoreFactory = () => Promise<UsageStore> | UsageStore;

export interface ConformanceOptions {
  /** Called after each test, once the store is closed (e.g. to remove its files). */
  readonly cleanup?: (store: UsageStore) => Promise<void> | void;
  /** Two handles on one backing store, to prove that concurrent claims never hand a record to both. */
  readonly sharedStoreFactory?: () => Promise<[UsageStore, UsageStore]>;
  /**
   * Whether to run the EntitlementStore tests (entitlement sets, allowance counters, usage above what is
   * included). Default true: every store meterkit ships implements it, contract products need it. Pass false for
   * a store that does not implement EntitlementStore (isEntitlementStore() is false): the other tests still run.
   */
  readonly entitlements?: boolean;
  /**
   * Whether to run the send quota tests (takeSendSlot()). Default true: every store meterkit ships implements it.
   * Pass false for a store without it: the engine then keeps each instance's own limit.
   */
  readonly sendQuota?: boolean;
  /**
   * Whether to run the customer query tests (findCustomers()). Default true: every store meterkit ships implements
   * it. Pass false for a store without it: the engine then pages through listCustomers() in memory.
   */
  readonly findCustomers?: boolean;
}

/** Gives each test freshly opened stores and closes and cleans them up afterwards. */
export class StoreContext {
  private current: UsageStore[] = [];

  constructor(private readonly options: ConformanceOptions) {}

  async track<T extends UsageStore>(store: T): Promise<T> {
    this.current.push(store);
    await store.open();
    return store;
  }

  async dispose(): Promise<void> {
    const stores = this.current;
    this.current = [];
    for (const store of stores) await store.close();
    for (const store of stores) await this.options.cleanup?.(store);
  }
}

/** The ids of records, in their order. */
export function ids(records: readonly { readonly id: string }[]): string[] {
  return records.map((record) => record.id);
}

/** The stored record with this id, as listRecords() returns it. */
export async function findRecord(store: UsageStore, id: string): Promise<StoredRecord | undefined> {
  return (await store.listRecords()).find((record) => record.id === id);
}

/** Like findRecord(), failing the test when the record does not exist. */
export async function getRecord(store: UsageStore, id: string): Promise<StoredRecord> {
  const record = await findRecord(store, id);
  if (record === undefined) throw new Error(`record ${JSON.stringify(id)} not found`);
  return record;
}
