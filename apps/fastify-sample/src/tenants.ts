import Database from 'better-sqlite3';
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

export interface TenantsOptions {
  /** The SQLite file tenants and API key hashes are kept in (METERKIT_APP_DB in main.ts). Default `:memory:`. */
  readonly file?: string;
  readonly clock?: () => number;
}

interface TenantRow {
  id: string;
  name: string;
  created_at: number;
}

const WELCOME_TTL_MS = 10 * 60_000;

const hash = (value: string): string => createHash('sha256').update(value).digest('hex');

const toTenant = (row: TenantRow | undefined): Tenant | undefined => (row === undefined ? undefined : { id: row.id, name: row.name, createdAt: row.created_at });

/**
 * The sample's tenants and their API keys, in a SQLite file so they survive a restart. Only key hashes are
 * stored, and a new key is shown once through a short-lived, one-time welcome reference (kept in memory).
 */
export class Tenants {
  private readonly db: Database.Database;
  private readonly welcomes = new Map<string, { tenantId: string; apiKey: string; expiresAt: number }>();
  private readonly clock: () => number;

  constructor(options: TenantsOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.db = new Database(options.file ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS api_keys (key_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id));
    `);
  }

  create(name: string): NewTenant {
    const tenant: Tenant = { id: `tn_${randomUUID()}`, name, createdAt: this.clock() };
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(tenant.id, name, tenant.createdAt);
      this.db.prepare('INSERT INTO api_keys (key_hash, tenant_id) VALUES (?, ?)').run(hash(apiKey), tenant.id);
    })();
    return { tenant, apiKey };
  }

  get(id: string): Tenant | undefined {
    return toTenant(this.db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE id = ?').get(id));
  }

  /** Revokes every API key of the tenant: its calls are refused from now on. Returns how many were revoked. */
  revokeApiKeys(tenantId: string): number {
    return this.db.prepare('DELETE FROM api_keys WHERE tenant_id = ?').run(tenantId).changes;
  }

  /** The tenant an API key belongs to. */
  authenticate(apiKey: string): Tenant | undefined {
    return toTenant(this.db.prepare<[string], TenantRow>('SELECT t.* FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = ?').get(hash(apiKey)));
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
    const tenant = this.get(welcome.tenantId);
    if (tenant === undefined || welcome.expiresAt <= this.clock()) return undefined;
    return { tenant, apiKey: welcome.apiKey };
  }

  close(): void {
    this.db.close();
  }
}
