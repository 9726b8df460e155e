import type { CustomerRecord } from '../model/customer';
import type { CustomerFilter, UsageStore } from './usage-store';
import { yieldToEventLoop } from './yield-to-event-loop';

/** Customers per page of background work: one page's synchronous work stays well under 20 ms. */
export const CUSTOMER_PAGE_SIZE = 500;

const LICENSE_ID = /(l-[0-9a-zA-Z]+)$/;

/** The license id (`l-…`) a license ARN ends with, whatever form AWS printed the ARN in; undefined when none. */
export function licenseIdOf(licenseArn: string): string | undefined {
  return LICENSE_ID.exec(licenseArn)?.[1];
}

/** The license id a store keeps for a customer (undefined for customers that are not licenses). */
export function customerLicenseId(customer: Pick<CustomerRecord, 'identity'>): string | undefined {
  return customer.identity.kind === 'license' ? licenseIdOf(customer.identity.licenseArn) : undefined;
}

/** Whether a customer matches every filter given: what findCustomers() answers, as a plain filter. */
export function matchesCustomerFilter(customer: CustomerRecord, filter: CustomerFilter): boolean {
  return (
    (filter.status === undefined || customer.status === filter.status) &&
    (filter.agreementId === undefined || customer.agreementId === filter.agreementId) &&
    (filter.successorAgreementId === undefined || customer.successorAgreementId === filter.successorAgreementId) &&
    (filter.licenseId === undefined || customerLicenseId(customer) === filter.licenseId)
  );
}

/**
 * The customers matching `filter`, page by page in key order, yielding to the event loop between pages, so that no
 * synchronous step handles more than a page. Stores without findCustomers() are read with one listCustomers().
 */
export async function* customerPages(store: UsageStore, filter: CustomerFilter = {}, pageSize = CUSTOMER_PAGE_SIZE): AsyncGenerator<CustomerRecord[]> {
  if (store.findCustomers === undefined) {
    const matching = (await store.listCustomers()).filter((customer) => matchesCustomerFilter(customer, filter));
    for (let start = 0; start < matching.length; start += pageSize) {
      if (start > 0) await yieldToEventLoop();
      yield matching.slice(start, start + pageSize);
    }
    return;
  }
  let after: string | undefined;
  for (;;) {
    const page = await store.findCustomers({ ...filter, ...(after === undefined ? {} : { after }), limit: pageSize });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.key;
    await yieldToEventLoop();
  }
}

/** The first customer in key order that matches `filter` and `accept`. */
export async function findFirstCustomer(
  store: UsageStore,
  filter: CustomerFilter,
  accept: (customer: CustomerRecord) => boolean = () => true,
): Promise<CustomerRecord | undefined> {
  for await (const page of customerPages(store, filter)) {
    const found = page.find(accept);
    if (found !== undefined) return found;
  }
  return undefined;
}
