import Database from 'better-sqlite3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  /** The AWS Marketplace customer (core customer key) this tenant bills to. */
  readonly customerKey?: string;
  readonly createdAt: number;
}

export interface TenantRegistryOptions {
  /** The SQLite file tenants and API key digests are kept in (METERKIT_APP_DB in main.ts). Default `:memory:`. */
  readonly file?: string;
  /** How long a welcome reference can be redeemed. Default 10 minutes. */
  readonly ttlMs?: number;
  readonly clock?: () => number;
}

interface TenantRow {
  id: string;
  name: string;
  customer_key: string | null;
  created_at: number;
}

const digest = (apiKey: string): string => createHash('sha256').update(apiKey).digest('base64url');

const toTenant = (row: TenantRow | undefined): Tenant | undefined =>
  row === undefined ? undefined : { id: row.id, name: row.name, ...(row.customer_key === null ? {} : { customerKey: row.customer_key }), createdAt: row.created_at };

/**
 * The sample's tenants and API keys, in a SQLite file so they survive a restart. Keys are stored as SHA-256
 * digests; a new key is shown once, through a one-time welcome reference (kept in memory) that expires after a few minutes.
 */
export class TenantRegistry {
  private readonly db: Database.Database;
  private readonly welcomes = new Map<string, { tenantId: string; apiKey: string; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(options: TenantRegistryOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.clock = options.clock ?? Date.now;
    this.db = new Database(options.file ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, customer_key TEXT UNIQUE, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS api_keys (key_digest TEXT PRIMARY KEY, tenant_id TEXT NOT NULL UNIQUE REFERENCES tenants(id));
    `);
  }

  create(name: string, customerKey?: string): Tenant {
    const tenant: Tenant = { id: `t_${randomUUID()}`, name, ...(customerKey === undefined ? {} : { customerKey }), createdAt: this.clock() };
    this.db.prepare('INSERT INTO tenants (id, name, customer_key, created_at) VALUES (?, ?, ?, ?)').run(tenant.id, name, customerKey ?? null, tenant.createdAt);
    return tenant;
  }

  get(id: string): Tenant | undefined {
    return toTenant(this.db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE id = ?').get(id));
  }

  /** The tenant an AWS Marketplace customer already has, if it registered before. */
  forCustomer(customerKey: string): Tenant | undefined {
    return toTenant(this.db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE customer_key = ?').get(customerKey));
  }

  /** A fresh API key for the tenant; the previous one stops working. */
  issueApiKey(tenantId: string): string {
    if (this.get(tenantId) === undefined) throw new Error('unknown tenant');
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM api_keys WHERE tenant_id = ?').run(tenantId);
      this.db.prepare('INSERT INTO api_keys (key_digest, tenant_id) VALUES (?, ?)').run(digest(apiKey), tenantId);
    })();
    return apiKey;
  }

  /** Revokes the tenant's API key: its requests are refused from now on. Returns whether it had one. */
  revokeApiKey(tenantId: string): boolean {
    return this.db.prepare('DELETE FROM api_keys WHERE tenant_id = ?').run(tenantId).changes > 0;
  }

  authenticate(apiKey: string | undefined): Tenant | undefined {
    if (apiKey === undefined || apiKey.length === 0 || apiKey.length > 200) return undefined;
    return toTenant(
      this.db.prepare<[string], TenantRow>('SELECT t.* FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_digest = ?').get(digest(apiKey)),
    );
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
    const tenant = this.get(welcome.tenantId);
    if (welcome.expiresAt <= this.clock() || tenant === undefined) return undefined;
    return { tenant, apiKey: welcome.apiKey };
  }

  close(): void {
    this.db.close();
  }
}
