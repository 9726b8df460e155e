import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

/** How long a welcome reference (showing a new API key once) can be redeemed. */
export const WELCOME_TTL_MS = 10 * 60_000;

const digest = (apiKey: string): string => createHash('sha256').update(apiKey).digest('base64url');

/**
 * The sample's in-memory tenants and API keys. Keys are kept as SHA-256 digests; a new key is shown once,
 * through a one-time welcome reference that expires after a few minutes.
 */
@Injectable()
export class TenantsService {
  private readonly tenants = new Map<string, Tenant>();
  private readonly keys = new Map<string, string>();
  private readonly welcomes = new Map<string, { tenantId: string; apiKey: string; expiresAt: number }>();

  create(name: string): { tenant: Tenant; apiKey: string } {
    const tenant: Tenant = { id: `t_${randomUUID()}`, name, createdAt: Date.now() };
    this.tenants.set(tenant.id, tenant);
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    this.keys.set(digest(apiKey), tenant.id);
    return { tenant, apiKey };
  }

  /** Revokes every API key of the tenant: its calls are refused from now on. Returns how many were revoked. */
  revokeApiKeys(tenantId: string): number {
    let revoked = 0;
    for (const [keyDigest, id] of this.keys) {
      if (id !== tenantId) continue;
      this.keys.delete(keyDigest);
      revoked += 1;
    }
    return revoked;
  }

  authenticate(apiKey: string | undefined): Tenant | undefined {
    if (apiKey === undefined || apiKey.length === 0 || apiKey.length > 200) return undefined;
    const id = this.keys.get(digest(apiKey));
    return id === undefined ? undefined : this.tenants.get(id);
  }

  /** A one-time, short-lived reference to show a new API key once. */
  offerWelcome(tenantId: string, apiKey: string): string {
    const now = Date.now();
    for (const [ref, welcome] of this.welcomes) if (welcome.expiresAt <= now) this.welcomes.delete(ref);
    const ref = randomBytes(24).toString('base64url');
    this.welcomes.set(ref, { tenantId, apiKey, expiresAt: now + WELCOME_TTL_MS });
    return ref;
  }

  /** The first redemption gets the key; later ones and expired references get nothing. */
  takeWelcome(ref: string): { tenant: Tenant; apiKey: string } | undefined {
    const welcome = this.welcomes.get(ref);
    if (welcome === undefined) return undefined;
    this.welcomes.delete(ref);
    const tenant = this.tenants.get(welcome.tenantId);
    if (welcome.expiresAt <= Date.now() || tenant === undefined) return undefined;
    return { tenant, apiKey: welcome.apiKey };
  }
}
