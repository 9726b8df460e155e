import { hourOf } from '../../model/hours';
import type { Metering } from '../../metering';
import type { MeteringStatus } from '../../status';
import { isEntitlementStore } from '../../store/entitlement-store';
import { contractsOverview, type ContractsOverview } from './contracts';
import { customerPage, type CustomerPage } from './customers';
import type { RecentError } from './recent-errors';

const HOUR_MS = 3_600_000;

export interface UsageBar {
  /** Start of the UTC hour, ISO 8601. */
  readonly hour: string;
  /** Units per dimension recorded in this hour (all customers). */
  readonly dimensions: Readonly<Record<string, number>>;
}

/** Everything the status page shows, as `GET <path>.json` returns it. */
export interface StatusPageData {
  readonly generatedAt: string;
  readonly mode: MeteringStatus['mode'];
  readonly store: MeteringStatus['store'];
  /** Records not settled yet: open, pending and sending. */
  readonly pending: number;
  readonly sent: number;
  readonly rejected: number;
  readonly expired: number;
  readonly notSubscribed: number;
  readonly duplicate: number;
  /** Time left in AWS's window for the oldest unsettled hour, ms (negative: it will expire). */
  readonly windowHeadroomMs?: number;
  readonly oldestPendingAgeMs?: number;
  /** The newest settledAt of a record AWS accepted, ISO 8601: `metering.status().lastSuccessfulSendAt`, as the CLI reports it. */
  readonly lastSuccessfulSendAt?: string;
  readonly lateQuantity: number;
  readonly status: MeteringStatus;
  /** The last 24 hours, oldest first, the current hour included. */
  readonly usage: readonly UsageBar[];
  readonly recentErrors: readonly RecentError[];
  /** Per customer: counts and units of the current and previous hours and a contract customer's entitlements, one page of them. */
  readonly customers: CustomerPage;
  /** Contract customers (stored entitlement sets) and how fresh their sets are; absent when the store holds none. */
  readonly contracts?: ContractsOverview;
}

/** Which page of the per-customer view to show and how many customers a page holds. */
export interface CustomerPaging {
  readonly page: number;
  readonly perPage: number;
}

export async function collectStatusPageData(metering: Metering, recentErrors: readonly RecentError[], paging: CustomerPaging): Promise<StatusPageData> {
  const status = await metering.status();
  const now = metering.now();
  const first = hourOf(now) - 23 * HOUR_MS;
  const records = await metering.store.listRecords({ hourFrom: first });
  const bars = new Map<number, Record<string, number>>();
  for (let h = first; h <= hourOf(now); h += HOUR_MS) bars.set(h, {});
  for (const record of records) {
    const bar = bars.get(record.hour);
    if (bar !== undefined) bar[record.dimension] = (bar[record.dimension] ?? 0) + record.quantity;
  }
  const store = metering.store;
  const sets = isEntitlementStore(store) ? await store.listEntitlements() : [];
  const customers = customerPage(await metering.listCustomers(), records, hourOf(now), hourOf(now) - HOUR_MS, paging.page, paging.perPage, sets);
  const c = status.counts;
  return {
    generatedAt: new Date(now).toISOString(),
    mode: status.mode,
    store: status.store,
    pending: c.open + c.pending + c.sending,
    sent: c.sent,
    rejected: c.rejected,
    expired: c.expired,
    notSubscribed: c['not-subscribed'],
    duplicate: c.duplicate,
    ...(status.oldestWindowLeftMs === undefined ? {} : { windowHeadroomMs: status.oldestWindowLeftMs }),
    ...(status.oldestPendingAgeMs === undefined ? {} : { oldestPendingAgeMs: status.oldestPendingAgeMs }),
    ...(status.lastSuccessfulSendAt === undefined ? {} : { lastSuccessfulSendAt: status.lastSuccessfulSendAt }),
    lateQuantity: status.lateQuantity,
    status,
    usage: [...bars.entries()].map(([hour, dimensions]) => ({ hour: new Date(hour).toISOString(), dimensions })),
    recentErrors,
    customers,
    ...(sets.length === 0 ? {} : { contracts: contractsOverview(sets) }),
  };
}
