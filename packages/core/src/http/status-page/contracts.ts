import type { EntitlementSet } from '../../contracts/entitlement-set';

/** Contract customers at a glance: how many sets the store holds and how fresh they are. */
export interface ContractsOverview {
  /** Customers with a stored entitlement set, revoked ones included. */
  readonly customers: number;
  /** Of those, the ones whose contract ended (an end signal came with an empty read). */
  readonly revoked: number;
  /** The newest and the oldest last refresh (GetEntitlements answer) of all sets, ISO 8601. */
  readonly newestRefreshAt?: string;
  readonly oldestRefreshAt?: string;
}

/** One customer's entitlements as the per-customer view shows them. */
export interface StatusPageEntitlements {
  /** When GetEntitlements last answered for this customer, ISO 8601. */
  readonly fetchedAt: string;
  /** What caused that read: `registration`, `event:<id>`, `timer`, `expiry`, `manual`. */
  readonly trigger: string;
  readonly revoked: boolean;
  readonly values: ReadonlyArray<{ readonly dimension: string; readonly value: number | boolean | string; readonly expiresAt?: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function contractsOverview(sets: readonly EntitlementSet[]): ContractsOverview {
  const fetched = sets.map((s) => s.fetchedAt);
  return {
    customers: sets.length,
    revoked: sets.filter((s) => s.revoked === true).length,
    ...(fetched.length === 0 ? {} : { newestRefreshAt: iso(Math.max(...fetched)), oldestRefreshAt: iso(Math.min(...fetched)) }),
  };
}

export function customerEntitlements(set: EntitlementSet): StatusPageEntitlements {
  return {
    fetchedAt: iso(set.fetchedAt),
    trigger: set.trigger,
    revoked: set.revoked === true,
    values: set.entitlements.map((e) => ({ dimension: e.dimension, value: e.value, ...(e.expiresAt === undefined ? {} : { expiresAt: iso(e.expiresAt) }) })),
  };
}
