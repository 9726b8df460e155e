import type { UsageStore } from '../usage-store';
import { describeBulk } from './bulk.conformance';
import { describeClaim, describeJournalSettleRelease } from './claim.conformance';
import { describeConcurrentClaims } from './concurrency.conformance';
import { StoreContext } from './context';
import type { ConformanceOptions, StoreFactory } from './context';
import { describeCustomers, describeFindCustomers } from './customers.conformance';
import { describeConcurrentConsumption, describeEntitlementSets, describeUsageAboveIncluded } from './entitlements.conformance';
import { describeLifecycle } from './lifecycle.conformance';
import { describeListRecords, describeStats } from './query.conformance';
import { describeRedrive } from './redrive.conformance';
import { describeConcurrentSendQuota, describeSendQuota } from './send-quota.conformance';
import { describeSetTotal } from './set-total.conformance';
import { describeAddUsage, describeFreezing } from './usage.conformance';

export type { ConformanceOptions, StoreFactory } from './context';

/**
 * Declares (with Jest's globals) the tests every UsageStore must pass. Each test gets a fresh store from
 * `factory`, opened by the suite, and closes it afterwards. The EntitlementStore tests (contract products) run
 * unless `options.entitlements` is false; a store that does not implement EntitlementStore fails them with a
 * message saying so. Likewise the send quota tests (takeSendSlot(), shared by every instance on the store) run
 * unless `options.sendQuota` is false; the race property among them needs fast-check. The customer queries
 * (findCustomers()) run unless `options.findCustomers` is false.
 *
 * @example
 * describeUsageStoreConformance('MyStore', () => new MyStore(freshDatabase()));
 */
export function describeUsageStoreConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  describe(`UsageStore conformance: ${name}`, () => {
    const context = new StoreContext(options);
    let current: UsageStore | undefined;
    const store = (): UsageStore => {
      if (current === undefined) throw new Error('the conformance store is not open');
      return current;
    };

    beforeEach(async () => {
      current = await context.track(await factory());
    });
    afterEach(async () => {
      current = undefined;
      await context.dispose();
    });

    describeLifecycle(store);
    describeAddUsage(store);
    describeFreezing(store);
    describeSetTotal(store);
    describeClaim(store);
    describeJournalSettleRelease(store);
    describeListRecords(store);
    describeStats(store);
    describeCustomers(store);
    if (options.findCustomers !== false) describeFindCustomers(store);
    describeRedrive(store);
    describeBulk(store);
    if (options.sharedStoreFactory !== undefined) describeConcurrentClaims(options.sharedStoreFactory, context);
    if (options.entitlements !== false) {
      describeEntitlementSets(store);
      describeUsageAboveIncluded(store);
      if (options.sharedStoreFactory !== undefined) describeConcurrentConsumption(options.sharedStoreFactory, context);
    }
    if (options.sendQuota !== false) {
      describeSendQuota(store);
      if (options.sharedStoreFactory !== undefined) describeConcurrentSendQuota(options.sharedStoreFactory, context);
    }
  });
}
