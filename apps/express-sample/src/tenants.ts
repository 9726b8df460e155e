import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  /** The AWS Marketplace customer (core customer key) this tenant bills to. */
  readonly customerKey?: string;
  readonly createdAt: number;
}

export interface WelcomeOptions {
  /** How long a welcome reference can be redeemed. Default 10 minutes. */
  readonly ttlMs?: number;
  readonly clock?: () => number;
}

const digest = (apiKey: string): string => createHash('sha256').update(apiKey).digest('base64url');

/**
 * The sample's in-memory tenants and API keys. Keys are stored as SHA-256 digests; a new key is shown once,
 * through a one-time welcome reference that expires after a few minutes.
 */
export class TenantRegistry {
  private readonly tenants = new Map<string, Tenant>();
  private readonly byCustomer = new Map<string, string>();
  private readonly keys = new Map<string, string>();
  private readonly keysOf = new Map<string, string>();
  private readonly welcomes = new Map<string, { tenantId: string; apiKey: string; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(options: WelcomeOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.clock = options.clock ?? Date.now;
  }

  create(name: string, customerKey?: string): Tenant {
    const tenant: Tenant = { id: `t_${randomUUID()}`, name, ...(customerKey === undefined ? {} : { customerKey }), createdAt: this.clock() };
    this.tenants.set(tenant.id, tenant);
    if (customerKey !== undefined) this.byCustomer.set(customerKey, tenant.id);
    return tenant;
  }

  get(id: string): Tenant | undefined {
    return this.tenants.get(id);
  }

  /** The tenant an AWS Marketplace customer already has, if it registered before. */
  forCustomer(customerKey: string): Tenant | undefined {
    const id = this.byCustomer.get(customerKey);
    return id === undefined ? undefined : this.tenants.get(id);
  }

  /** A fresh API key for the tenant; the previous one stops working. */
  issueApiKey(tenantId: string): string {
    if (!this.tenants.has(tenantId)) throw new Error('unknown tenant');
    const previous = this.keysOf.get(tenantId);
    if (previous !== undefined) this.keys.delete(previous);
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    this.keys.set(digest(apiKey), tenantId);
    this.keysOf.set(tenantId, digest(apiKey));
    return apiKey;
  }

  /** Revokes the tenant's API key: its requests are refused from now on. Returns whether it had one. */
  revokeApiKey(tenantId: string): boolean {
    const previous = this.keysOf.get(tenantId);
    if (previous === undefined) return false;
    this.keys.delete(previous);
    this.keysOf.delete(tenantId);
    return true;
  }

  authenticate(apiKey: string | undefined): Tenant | undefined {
    if (apiKey === undefined || apiKey.length === 0 || apiKey.length > 200) return undefined;
    const id = this.keys.get(digest(apiKey));
    return id === undefined ? undefined : this.tenants.get(id);
  }

  /** A one-time, short-lived reference to show a new API key once. */
  offerWelcome(tenantId: string, apiKey: string): string {
    const now = this.clock();
    for (const [ref, welcome] of this.welcomes) if (welcome.expiresAt <= now) this.welcomes.delete(ref);
    const ref = randomBytes(24).toString('base64url');
    this.welcomes.set(ref, { tenantId, apiKey, expiresAt: now + this.ttlMs });
    return ref;
  }

  /** Redeems a welcome reference: the first call gets the key, later calls and expired references nothing. */
  takeWelcome(ref: string): { tenant: Tenant; apiKey: string } | undefined {
    const welcome = this.welcomes.get(ref);
    if (welcome === undefined) return undefined;
    this.welcomes.delete(ref);
    const tenant = this.tenants.get(welcome.tenantId);
    if (welcome.expiresAt <= this.clock() || tenant === undefined) return undefined;
    return { tenant, apiKey: welcome.apiKey };
  }
}
