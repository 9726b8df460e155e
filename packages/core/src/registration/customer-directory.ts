import { ErrorCodes, MeterkitError } from '../errors';
import { customerKey, type CustomerIdentity, type CustomerRecord, type CustomerStatus } from '../model/customer';
import type { Product } from '../model/product';
import { assertIdentity } from '../model/validate-identity';
import { boundCustomer, type BoundCustomer } from '../meter/bound-customer';
import { withinStoreTimeout, type RequestStoreCalls } from '../store/store-timeout';
import type { UsageStore } from '../store/usage-store';
import { isLegacyAccount, LegacyAccounts } from './legacy-accounts';

export interface DirectoryDeps {
  readonly products: ReadonlyMap<string, Product>;
  readonly store: () => Promise<UsageStore>;
  readonly customerForTenant:
    | ((tenantId: string) => Promise<CustomerIdentity | CustomerRecord | undefined> | CustomerIdentity | CustomerRecord | undefined)
    | undefined;
  readonly meteredStatuses: ReadonlySet<CustomerStatus>;
  /** How long a resolved customer (tenant, identity or record) is served from memory without reading the store. */
  readonly tenantCacheMs: number;
  /** Bounds the store's lookups; its timeoutMs bounds customerForTenant too. Past it, treated as the store being down. */
  readonly storeCalls: RequestStoreCalls;
  readonly clock: () => number;
}

const MAX_TENANTS = 100_000;

function isRecord(value: CustomerIdentity | CustomerRecord): value is CustomerRecord {
  return 'identity' in value;
}

/**
 * A customer resolve() found metered, served without a store read until `until` while `generation` is current. It is
 * the bound customer itself (a copy of the one bind() made, for this caller's tenant or object), so that a known
 * customer costs the hot path one object fewer to read.
 */
interface Resolved extends BoundCustomer {
  readonly until: number;
  readonly generation: number;
  /** A read ahead of `until` was started for it. */
  refreshing: boolean;
}

/** A store read of one tenant or customer under way, shared by the resolve() calls that arrive while it runs. */
interface Reading {
  readonly generation: number;
  readonly answer: Promise<BoundCustomer>;
}

/** Finds and validates customers: identities are checked once and cached; tenants are mapped through the registry. */
export class CustomerDirectory {
  private readonly bound = new Map<string, BoundCustomer>();
  /** The hot path passes the same identity object on every request: one WeakMap lookup, no key string. */
  private byObject = new WeakMap<CustomerIdentity, BoundCustomer>();
  /** Tenant → customer, fresh until `until` while `generation` is current; kept afterwards as the fallback while the store is down. */
  private readonly tenants = new Map<string, { record: CustomerRecord | CustomerIdentity; until: number; generation: number }>();

  /**
   * What resolve() answered, by tenant id and by the identity or record object the caller passed (the hot path
   * passes the same objects again): the answer of a known customer is a map lookup, no store read, no promise.
   */
  private readonly resolvedTenants = new Map<string, Resolved>();
  private resolvedObjects = new WeakMap<object, Resolved>();
  /** Bumped by forget(): every answer cached before is stale at once, on this instance. */
  private generation = 0;
  /** Reads under way, by tenant id and by the identity or record object: one read per customer at a time. */
  private readonly readingTenants = new Map<string, Reading>();
  private readonly readingObjects = new WeakMap<object, Reading>();
  /** A known answer with less than this left is read again in the background while it is still served. */
  private readonly refreshAheadMs: number;

  /** Legacy account ids and the registered customer each names. */
  private readonly legacy: LegacyAccounts;

  constructor(private readonly d: DirectoryDeps) {
    this.refreshAheadMs = d.tenantCacheMs / 10;
    this.legacy = new LegacyAccounts(d.store, (key) => {
      this.bound.delete(key);
      this.byObject = new WeakMap();
      this.generation++;
    });
  }

  /** Validates an identity against its product once; later calls are a map lookup. */
  bind(identity: CustomerIdentity): BoundCustomer {
    const same = this.byObject.get(identity);
    if (same !== undefined) return same;
    const key = customerKey(identity);
    const known = this.bound.get(key);
    if (known !== undefined) return known;
    const product = this.d.products.get(identity.productCode);
    if (product === undefined) {
      throw new MeterkitError(ErrorCodes.UNKNOWN_PRODUCT, `Product ${String(identity.productCode)} is not in this app's \`products\`.`, {
        awsException: 'InvalidProductCodeException',
      });
    }
    assertIdentity(identity, product);
    if (isLegacyAccount(identity)) {
      const target = this.legacy.target(identity);
      if (customerKey(target) !== key) {
        const named = this.bind(target);
        this.bound.set(key, named);
        this.byObject.set(identity, named);
        return named;
      }
    }
    const bound = boundCustomer(identity, key, product);
    if (this.bound.size >= 100_000) this.bound.clear();
    this.bound.set(key, bound);
    this.byObject.set(identity, bound);
    return bound;
  }

  /**
   * The customer resolve() answered for `who` within the last tenantCacheMs, unless forget() was called since or
   * its final-usage window closed; undefined when only resolve() can tell (not seen, stale, inactive, store down).
   * In the last tenth of that time the answer is read again in the background, once, while it is still served:
   * a customer that keeps sending requests is never left to the read path when its answer runs out.
   */
  known(who: string | CustomerIdentity | CustomerRecord, now: number = this.d.clock()): BoundCustomer | undefined {
    const entry = typeof who === 'string' ? this.resolvedTenants.get(who) : this.resolvedObjects.get(who);
    if (entry === undefined || entry.generation !== this.generation || entry.until <= now) return undefined;
    if (!entry.refreshing && entry.until - now <= this.refreshAheadMs) {
      entry.refreshing = true;
      this.read(who, true).catch(ignore);
    }
    return entry;
  }

  /**
   * A customer given as a tenant id, an identity or a registry record, checked to be metered now. Calls for the same
   * tenant or object while one reads the store share that read (a forget() in between starts a new one).
   */
  resolve(who: string | CustomerIdentity | CustomerRecord): Promise<BoundCustomer> {
    const hit = this.known(who);
    if (hit !== undefined) return Promise.resolve(hit);
    return this.read(who, false);
  }

  /** The shared read of `who`; `again`: past any cached tenant mapping (the read ahead of an answer running out). */
  private read(who: string | CustomerIdentity | CustomerRecord, again: boolean): Promise<BoundCustomer> {
    const generation = this.generation;
    const reading = typeof who === 'string' ? this.readingTenants.get(who) : this.readingObjects.get(who);
    if (reading !== undefined && reading.generation === generation) return reading.answer;
    const answer = this.lookup(who, generation, again);
    const entry: Reading = { generation, answer };
    const done = (): void => {
      if (typeof who === 'string') {
        if (this.readingTenants.get(who) === entry) this.readingTenants.delete(who);
      } else if (this.readingObjects.get(who) === entry) this.readingObjects.delete(who);
    };
    if (typeof who === 'string') this.readingTenants.set(who, entry);
    else this.readingObjects.set(who, entry);
    answer.then(done, done);
    return answer;
  }

  private async lookup(who: string | CustomerIdentity | CustomerRecord, generation: number, again: boolean): Promise<BoundCustomer> {
    // A forget() while the store is read makes this answer stale: it was read before the change.
    if (typeof who === 'string') {
      const { found, until } = await this.forTenant(who, again);
      const identity = isRecord(found) ? found.identity : found;
      await this.readLegacy(identity);
      const bound = this.bindRecord(found);
      if (!isLegacyAccount(identity)) this.remember(who, found, bound, until, generation);
      return bound;
    }
    const identity = isRecord(who) ? who.identity : who;
    const named = await this.readLegacy(identity);
    let current: CustomerRecord | undefined;
    // Fresh until tenantCacheMs after the read started: the record read is at least that recent.
    let until = this.d.clock() + this.d.tenantCacheMs;
    try {
      current = await this.bounded((store) => store.getCustomer(customerKey(named)), 'read a customer');
    } catch {
      // The store is down: meter the customer the caller named rather than lose the usage (fail open).
      current = undefined;
      until = 0;
    }
    const found = current ?? (named === identity ? who : named);
    const bound = this.bindRecord(found);
    if (!isLegacyAccount(identity)) this.remember(who, found, bound, until, generation);
    return bound;
  }

  /** A registry record written here (registration, putCustomer): a legacy account id it names is known at once. */
  learn(record: Pick<CustomerRecord, 'identity' | 'customerAwsAccountId'>): void {
    this.legacy.learn(record);
  }

  /**
   * The identity a legacy account id is metered as, after reading the registry (again when it does not hold the
   * account: another instance may have registered it since). Other identities are returned as they are.
   */
  private async readLegacy(identity: CustomerIdentity): Promise<CustomerIdentity> {
    if (!isLegacyAccount(identity)) return identity;
    const attempt = async (force: boolean) => {
      try {
        await this.d.storeCalls.wait(this.legacy.read(force), 'read the legacy accounts');
      } catch {
        // The store is down: the registry as last read decides.
      }
      return this.legacy.target(identity);
    };
    return attempt(false).catch(() => attempt(true));
  }

  /**
   * Makes everything resolved stale: every tenant and customer is read again on its next request (a tenant moved
   * to another customer can leave the one it replaced unlinked). Cached tenant mappings serve afterwards only while
   * the store is down. `registry` (lifecycle events, registrations, putCustomer) also reads the legacy accounts again.
   */
  forget(scope: 'registry' | 'tenants' = 'registry'): void {
    this.generation++;
    if (scope === 'registry') this.legacy.forget();
  }

  /**
   * Keeps an answer until `until` (tenantCacheMs after the store read it came from; 0 when the store was down and
   * nothing was read), unless forget() was called while it was looked up.
   */
  private remember(
    who: string | CustomerIdentity | CustomerRecord,
    found: CustomerRecord | CustomerIdentity,
    bound: BoundCustomer,
    readUntil: number,
    generation: number,
  ): void {
    let until = readUntil;
    // A deprovisioned customer is metered until its final-usage deadline, not a moment longer.
    if (isRecord(found) && found.status === 'deprovisioning' && found.finalUsageDeadline !== undefined) until = Math.min(until, found.finalUsageDeadline);
    if (generation !== this.generation || until <= this.d.clock()) return;
    const { identity, key, product } = bound;
    const entry: Resolved = { identity, key, product, rowTable: -1, row: -1, until, generation, refreshing: false };
    if (typeof who !== 'string') {
      this.resolvedObjects.set(who, entry);
      return;
    }
    if (this.resolvedTenants.size >= MAX_TENANTS && !this.resolvedTenants.has(who)) this.resolvedTenants.delete(this.resolvedTenants.keys().next().value!);
    this.resolvedTenants.set(who, entry);
  }

  /** The tenant's customer, and until when that answer may be served without reading again (0: the store was down). */
  private async forTenant(tenantId: string, again: boolean): Promise<{ found: CustomerRecord | CustomerIdentity; until: number }> {
    const now = this.d.clock();
    const cached = this.tenants.get(tenantId);
    const generation = this.generation;
    if (!again && cached !== undefined && cached.until > now && cached.generation === generation) return { found: cached.record, until: cached.until };
    let found: CustomerRecord | CustomerIdentity | undefined;
    try {
      const mapped = this.d.customerForTenant;
      found =
        mapped !== undefined
          ? await withinStoreTimeout(Promise.resolve().then(() => mapped(tenantId)), this.d.storeCalls.timeoutMs, 'customerForTenant')
          : await this.bounded((store) => store.findCustomerByTenant(tenantId), 'find the customer of a tenant');
    } catch (cause) {
      // The store is down: a tenant seen before keeps being metered with its last known customer (fail open).
      if (cached !== undefined) return { found: cached.record, until: 0 };
      throw cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.STORE, 'Could not look up the customer of this tenant.', { cause });
    }
    if (found === undefined) {
      throw new MeterkitError(
        ErrorCodes.UNKNOWN_CUSTOMER,
        'No AWS Marketplace customer is linked to this tenant. Link one at registration (onRegistered) or with linkTenant().',
      );
    }
    if (this.tenants.size >= MAX_TENANTS && !this.tenants.has(tenantId)) this.tenants.delete(this.tenants.keys().next().value!);
    const until = now + this.d.tenantCacheMs;
    this.tenants.set(tenantId, { record: found, until, generation });
    return { found, until };
  }

  private bounded<T>(call: (store: UsageStore) => Promise<T>, action: string): Promise<T> {
    return this.d.storeCalls.wait(this.d.store().then(call), action);
  }

  private bindRecord(found: CustomerRecord | CustomerIdentity): BoundCustomer {
    if (!isRecord(found)) return this.bind(found);
    const stillInWindow =
      found.status === 'deprovisioning' && (found.finalUsageDeadline === undefined || found.finalUsageDeadline > this.d.clock());
    if (!this.d.meteredStatuses.has(found.status) || (found.status === 'deprovisioning' && !stillInWindow)) {
      throw new MeterkitError(ErrorCodes.CUSTOMER_INACTIVE, `This customer's subscription is ${found.status}: AWS would not bill its usage.`, {
        awsException: 'CustomerNotSubscribed',
        details: { status: found.status },
      });
    }
    return this.bind(found.identity);
  }
}

function ignore(): void {
  // A read ahead that fails leaves the answer to run out; the next request after that reads again.
}
