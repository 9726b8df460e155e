import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface NewTenant {
  readonly tenant: Tenant;
  /** Shown once, on the welcome page; only its hash is kept. */
  readonly apiKey: string;
}

const WELCOME_TTL_MS = 10 * 60_000;

const hash = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * The sample's tenants and their API keys, in memory. A real app keeps these in its database; only key
 * hashes are stored, and a new key is shown once through a short-lived, one-time welcome reference.
 */
export class Tenants {
  private readonly byId = new Map<string, Tenant>();
  private readonly byKeyHash = new Map<string, string>();
  private readonly welcomes = new Map<string, { tenantId: string; apiKey: string; expiresAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  create(name: string): NewTenant {
    const tenant: Tenant = { id: `tn_${randomUUID()}`, name, createdAt: this.clock() };
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    this.byId.set(tenant.id, tenant);
    this.byKeyHash.set(hash(apiKey), tenant.id);
    return { tenant, apiKey };
  }

  get(id: string): Tenant | undefined {
    return this.byId.get(id);
  }

  /** Revokes every API key of the tenant: its calls are refused from now on. Returns how many were revoked. */
  revokeApiKeys(tenantId: string): number {
    let revoked = 0;
    for (const [keyHash, id] of this.byKeyHash) {
      if (id !== tenantId) continue;
      this.byKeyHash.delete(keyHash);
      revoked += 1;
    }
    return revoked;
  }

  /** The tenant an API key belongs to. */
  authenticate(apiKey: string): Tenant | undefined {
    const id = this.byKeyHash.get(hash(apiKey));
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** A one-time reference to the welcome page of a new tenant, valid for 10 minutes. */
  issueWelcome({ tenant, apiKey }: NewTenant): string {
    const now = this.clock();
    for (const [old, welcome] of this.welcomes) if (welcome.expiresAt <= now) this.welcomes.delete(old);
    const ref = randomBytes(18).toString('base64url');
    this.welcomes.set(ref, { tenantId: tenant.id, apiKey, expiresAt: now + WELCOME_TTL_MS });
    return ref;
  }

  /** Redeems a welcome reference once; undefined when unknown, used or expired. */
  redeemWelcome(ref: string): NewTenant | undefined {
    const welcome = this.welcomes.get(ref);
    if (welcome === undefined) return undefined;
    this.welcomes.delete(ref);
    const tenant = this.byId.get(welcome.tenantId);
    if (tenant === undefined || welcome.expiresAt <= this.clock()) return undefined;
    return { tenant, apiKey: welcome.apiKey };
  }
}
