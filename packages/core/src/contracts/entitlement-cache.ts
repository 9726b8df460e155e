import type { AllowanceCounter, EntitlementStore } from '../store/entitlement-store';
import type { EntitlementSet } from './entitlement-set';

export interface EntitlementCacheDeps {
  /** The store the sets are kept in; undefined when it does not implement EntitlementStore. */
  readonly store: () => Promise<EntitlementStore | undefined>;
  readonly clock: () => number;
  /** How long a set read from the store is served from memory. */
  readonly cacheMs: number;
}

interface Entry {
  readonly set: EntitlementSet | undefined;
  /** Fresh until then (clock ms); afterwards served only by peek(). */
  readonly until: number;
}

const MAX_ENTRIES = 100_000;

/**
 * This instance's copy of the stored entitlement sets: each served from memory for `cacheMs` after it was read from
 * the store (or written by this instance), then read again, so a refresh by another instance is seen within cacheMs.
 */
export class EntitlementCache {
  private readonly entries = new Map<string, Entry>();
  /** Store reads under way, one per customer. */
  private readonly loading = new Map<string, Promise<EntitlementSet | undefined>>();
  /** Allowance counters (contracts with consumption), kept as fresh as the sets. */
  private readonly counters = new Map<string, { readonly counters: readonly AllowanceCounter[]; readonly until: number }>();

  constructor(private readonly d: EntitlementCacheDeps) {}

  /** The customer's stored set: from memory while fresh, else read from the store. Undefined when none is stored. */
  entitlementsOf(customerKey: string): Promise<EntitlementSet | undefined> {
    const entry = this.entries.get(customerKey);
    if (entry !== undefined && entry.until > this.d.clock()) return Promise.resolve(entry.set);
    return this.load(customerKey);
  }

  /** What is in memory for the customer, fresh or not (`fresh` says which); undefined when never read here. */
  peek(customerKey: string): { readonly set: EntitlementSet | undefined; readonly fresh: boolean } | undefined {
    const entry = this.entries.get(customerKey);
    return entry === undefined ? undefined : { set: entry.set, fresh: entry.until > this.d.clock() };
  }

  /** Reads the customer's set from the store now, bypassing memory. */
  load(customerKey: string): Promise<EntitlementSet | undefined> {
    let pending = this.loading.get(customerKey);
    if (pending === undefined) {
      const started = this.d.clock();
      pending = this.d
        .store()
        .then((store) => store?.getEntitlements(customerKey))
        .then((set) => {
          this.keep(customerKey, set, started);
          return set;
        })
        .finally(() => this.loading.delete(customerKey));
      this.loading.set(customerKey, pending);
    }
    return pending;
  }

  /** The customer's allowance counters: from memory while fresh, else read from the store. */
  async countersOf(customerKey: string): Promise<readonly AllowanceCounter[]> {
    const entry = this.counters.get(customerKey);
    const now = this.d.clock();
    if (entry !== undefined && entry.until > now) return entry.counters;
    const counters = (await (await this.d.store())?.listAllowanceCounters(customerKey)) ?? [];
    if (this.counters.size >= MAX_ENTRIES && !this.counters.has(customerKey)) this.counters.delete(this.counters.keys().next().value!);
    this.counters.set(customerKey, { counters, until: now + this.d.cacheMs });
    return counters;
  }

  /** The counters in memory, fresh or not; undefined when never read here. */
  peekCounters(customerKey: string): { readonly counters: readonly AllowanceCounter[]; readonly fresh: boolean } | undefined {
    const entry = this.counters.get(customerKey);
    return entry === undefined ? undefined : { counters: entry.counters, fresh: entry.until > this.d.clock() };
  }

  /** A set this instance stored (or found stored): seen here at once. An older one than in memory is ignored. */
  remember(set: EntitlementSet): void {
    this.keep(set.customerKey, set, this.d.clock());
  }

  private keep(customerKey: string, set: EntitlementSet | undefined, readAt: number): void {
    const current = this.entries.get(customerKey)?.set;
    // A store read that started before this instance wrote a newer set must not hide it.
    const kept = current !== undefined && (set === undefined || set.fetchedAt < current.fetchedAt) ? current : set;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(customerKey)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(customerKey, { set: kept, until: readAt + this.d.cacheMs });
  }
}
