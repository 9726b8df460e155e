import type Database from 'better-sqlite3';
import { ErrorCodes, MeterkitError } from '../../errors';
import { licenseIdOf } from '../customer-pages';

/** Migration N (1-based) brings the schema from version N-1 to N. Never edit a released migration: append one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE usage_records (
    id TEXT PRIMARY KEY,
    customer_key TEXT NOT NULL,
    product_code TEXT NOT NULL,
    customer TEXT NOT NULL,
    dimension TEXT NOT NULL,
    hour INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN
      ('open', 'pending', 'sending', 'sent', 'not-subscribed', 'duplicate', 'rejected', 'expired', 'dry-run')),
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    frozen TEXT,
    source TEXT NOT NULL CHECK (source IN ('metered', 'total')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    last_attempt_at INTEGER,
    settled_at INTEGER,
    metering_record_id TEXT,
    reason TEXT,
    CHECK ((state = 'open') = (frozen IS NULL))
  ) STRICT;
  CREATE INDEX usage_records_by_state_hour ON usage_records (state, hour);
  CREATE INDEX usage_records_by_customer ON usage_records (customer_key);

  CREATE TABLE usage_allocations (
    record_id TEXT NOT NULL REFERENCES usage_records (id) ON DELETE CASCADE,
    tags_key TEXT NOT NULL,
    tags TEXT,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (record_id, tags_key)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE customers (
    key TEXT PRIMARY KEY,
    tenant_id TEXT,
    updated_at INTEGER NOT NULL,
    record TEXT NOT NULL
  ) STRICT;
  CREATE INDEX customers_by_tenant ON customers (tenant_id, updated_at DESC);
  `,
  `
  CREATE TABLE applied_batches (
    id TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX applied_batches_by_time ON applied_batches (applied_at);
  `,
  // Records journaled before the flag existed may have reached AWS: they keep being treated so (docs/decisions.md).
  `
  ALTER TABLE usage_records ADD COLUMN may_have_landed INTEGER NOT NULL DEFAULT 0 CHECK (may_have_landed IN (0, 1));
  UPDATE usage_records SET may_have_landed = 1 WHERE attempts > 0;
  `,
  // Customer versions, for conditional writes. Rows written before count as version 0.
  `
  ALTER TABLE customers ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
  `,
  // Claims walk the due records in (hour, id) order on an index and stop at the limit, instead of sorting every
  // pending row; expired leases are found by lease_until. The new index starts with (state, hour): it replaces it.
  `
  CREATE INDEX IF NOT EXISTS usage_records_by_state_hour_id ON usage_records (state, hour, id, next_attempt_at);
  CREATE INDEX IF NOT EXISTS usage_records_by_state_lease ON usage_records (state, lease_until);
  DROP INDEX IF EXISTS usage_records_by_state_hour;
  `,
  // Contract products: each customer's entitlement set (replaced whole, newest fetched_at wins) and the allowance
  // counters of contracts with consumption, written in the transaction of the batch they count.
  `
  CREATE TABLE IF NOT EXISTS entitlement_sets (
    customer_key TEXT PRIMARY KEY,
    fetched_at REAL NOT NULL,
    entitlement_set TEXT NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS allowance_counters (
    customer_key TEXT NOT NULL,
    allowance_dimension TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    used INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (customer_key, allowance_dimension, period_start)
  ) STRICT, WITHOUT ROWID;
  `,
  // One send quota for every instance on the file: per scope, the times of the last grants (a JSON array).
  `
  CREATE TABLE IF NOT EXISTS send_slots (
    scope TEXT PRIMARY KEY,
    times TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // Background work pages through the customers it needs on indexes (findCustomers()): by status, agreement and
  // successor agreement (expressions over the stored JSON), and by license id (`l-…`), kept in its own column from
  // now on and filled in here for the customers already stored.
  `
  ALTER TABLE customers ADD COLUMN license_id TEXT;
  UPDATE customers SET license_id = meterkit_license_id(json_extract(record, '$.identity.licenseArn'))
  WHERE json_extract(record, '$.identity.kind') = 'license';
  CREATE INDEX IF NOT EXISTS customers_by_license ON customers (license_id, key) WHERE license_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS customers_by_status ON customers (json_extract(record, '$.status'), key);
  CREATE INDEX IF NOT EXISTS customers_by_agreement ON customers (json_extract(record, '$.agreementId'), key);
  CREATE INDEX IF NOT EXISTS customers_by_successor ON customers (json_extract(record, '$.successorAgreementId'), key)
  WHERE json_extract(record, '$.successorAgreementId') IS NOT NULL;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Creates or upgrades the schema in one transaction; refuses a database written by a newer meterkit. */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY NOT NULL) STRICT');
    const current = readSchemaVersion(db);
    if (current > SCHEMA_VERSION) {
      throw new MeterkitError(
        ErrorCodes.STORE_SCHEMA,
        `The SQLite database has schema version ${current}, newer than the ${SCHEMA_VERSION} this meterkit knows: upgrade meterkit`,
        { details: { schemaVersion: current, supportedVersion: SCHEMA_VERSION } },
      );
    }
    if (current === SCHEMA_VERSION) return;
    // Used by the migration that fills in license ids; never by an index or a table.
    db.function('meterkit_license_id', { deterministic: true }, (arn: unknown) => (typeof arn === 'string' ? (licenseIdOf(arn) ?? null) : null));
    for (const migration of MIGRATIONS.slice(current)) db.exec(migration);
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(SCHEMA_VERSION);
  }).immediate();
}

function readSchemaVersion(db: Database.Database): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: unknown } | undefined;
  if (row === undefined) return 0;
  const version = Number(row.value);
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new MeterkitError(ErrorCodes.STORE_SCHEMA, 'The SQLite database has an unreadable schema version', {
      details: { schemaVersion: String(row.value) },
    });
  }
  return version;
}
