import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import Database from 'better-sqlite3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface TenantsOptions {
  /** The SQLite file tenants and API key digests are kept in (METERKIT_APP_DB in main.ts). Default `:memory:`. */
  readonly file?: string;
}

export const TENANTS_OPTIONS = Symbol('TENANTS_OPTIONS');

interface TenantRow {
  id: string;
  name: string;
  created_at: number;
}

const toTenant = (row: TenantRow | undefined): Tenant | undefined => (row === undefined ? undefined : { id: row.id, name: row.name, createdAt: row.created_at });

/** How long a welcome reference (showing a new API key once) can be redeemed. */
export const WELCOME_TTL_MS = 10 * 60_000;

const digest = (apiKey: string): string => createHash('sha256').update(apiKey).digest('base64url');

/**
 * The sample's tenants and API keys, in a SQLite file so they survive a restart. Keys are kept as SHA-256 digests;
 * a new key is shown once, through a one-time welcome reference (kept in memory) that expires after a few minutes.
 */
@Injectable()
export class TenantsService implements OnModuleDestroy {
  private readonly db: Database.Database;
  private readonly welcomes = new Map<string, { tenantId: string; apiKey: string; expiresAt: number }>();

  constructor(@Inject(TENANTS_OPTIONS) options: TenantsOptions) {
    this.db = new Database(options.file ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS api_keys (key_digest TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id));
    `);
  }

  create(name: string): { tenant: Tenant; apiKey: string } {
    const tenant: Tenant = { id: `t_${randomUUID()}`, name, createdAt: Date.now() };
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(tenant.id, name, tenant.createdAt);
      this.db.prepare('INSERT INTO api_keys (key_digest, tenant_id) VALUES (?, ?)').run(digest(apiKey), tenant.id);
    })();
    return { tenant, apiKey };
  }

  /** Revokes every API key of the tenant: its calls are refused from now on. Returns how many were revoked. */
  revokeApiKeys(tenantId: string): number {
    return this.db.prepare('DELETE FROM api_keys WHERE tenant_id = ?').run(tenantId).changes;
  }

  authenticate(apiKey: string | undefined): Tenant | undefined {
    if (apiKey === undefined || apiKey.length === 0 || apiKey.length > 200) return undefined;
    return toTenant(this.db.prepare<[string], TenantRow>('SELECT t.* FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_digest = ?').get(digest(apiKey)));
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
    const tenant = toTenant(this.db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE id = ?').get(welcome.tenantId));
    if (welcome.expiresAt <= Date.now() || tenant === undefined) return undefined;
    return { tenant, apiKey: welcome.apiKey };
  }

  onModuleDestroy(): void {
    this.db.close();
  }
}
