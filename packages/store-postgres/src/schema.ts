import { ErrorCodes, MeterkitError } from '@meterkit/core';
import type { PoolClient } from 'pg';
import type { Tables } from './tables';

/**
 * Migration N (1-based) brings the schema from version N-1 to N. Never edit a released migration: append one.
 * Text that is compared or sorted uses the "C" collation, so that PostgreSQL orders ids like every other store
 * (code-unit order), whatever the database's locale. Tag keys contain NUL, which text cannot hold: bytea.
 * JSON is kept as text, byte for byte, so that every resend of a frozen record is identical.
 */
const MIGRATIONS: ReadonlyArray<(t: Tables) => string> = [
  (t) => `
  CREATE TABLE ${t.records} (
    id text COLLATE "C" PRIMARY KEY,
    customer_key text COLLATE "C" NOT NULL,
    product_code text NOT NULL,
    customer text NOT NULL,
    dimension text NOT NULL,
    hour bigint NOT NULL,
    state text NOT NULL CHECK (state IN
      ('open', 'pending', 'sending', 'sent', 'not-subscribed', 'duplicate', 'rejected', 'expired', 'dry-run')),
    quantity bigint NOT NULL CHECK (quantity >= 0),
    frozen text,
    frozen_quantity bigint,
    source text NOT NULL CHECK (source IN ('metered', 'total')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    lease_owner text,
    lease_until bigint,
    last_attempt_at bigint,
    settled_at bigint,
    metering_record_id text,
    reason text,
    CHECK ((state = 'open') = (frozen IS NULL)),
    CHECK ((frozen IS NULL) = (frozen_quantity IS NULL))
  );
  CREATE INDEX meterkit_usage_records_by_state_hour ON ${t.records} (state, hour);
  CREATE INDEX meterkit_usage_records_by_customer ON ${t.records} (customer_key);

  CREATE TABLE ${t.allocations} (
    record_id text COLLATE "C" NOT NULL REFERENCES ${t.records} (id) ON DELETE CASCADE,
    tags_key bytea NOT NULL,
    tags text,
    quantity bigint NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (record_id, tags_key)
  );

  CREATE TABLE ${t.customers} (
    key text COLLATE "C" PRIMARY KEY,
    tenant_id text,
    updated_at bigint NOT NULL,
    record text NOT NULL
  );
  CREATE INDEX meterkit_customers_by_tenant ON ${t.customers} (tenant_id, updated_at DESC);
  `,
  (t) => `
  CREATE TABLE ${t.batches} (
    id text COLLATE "C" PRIMARY KEY,
    applied_at bigint NOT NULL
  );
  CREATE INDEX meterkit_applied_batches_by_time ON ${t.batches} (applied_at);
  `,
  // Records journaled before the flag existed may have reached AWS: they keep being treated so (docs/decisions.md).
  (t) => `
  ALTER TABLE ${t.records} ADD COLUMN may_have_landed boolean NOT NULL DEFAULT false;
  UPDATE ${t.records} SET may_have_landed = true WHERE attempts > 0;
  `,
  // Customer versions, for conditional writes. Rows written before count as version 0.
  (t) => `
  ALTER TABLE ${t.customers} ADD COLUMN version bigint NOT NULL DEFAULT 0;
  `,
  // Contract products: each customer's entitlement set (the JSON as written, replaced whole) and the included units
  // used per allowance dimension and period.
  (t) => `
  CREATE TABLE ${t.entitlements} (
    customer_key text COLLATE "C" PRIMARY KEY,
    product_code text NOT NULL,
    fetched_at double precision NOT NULL,
    entitlement_set text NOT NULL
  );
  CREATE TABLE ${t.allowances} (
    customer_key text COLLATE "C" NOT NULL,
    allowance_dimension text COLLATE "C" NOT NULL,
    period_start bigint NOT NULL,
    used bigint NOT NULL CHECK (used >= 0),
    PRIMARY KEY (customer_key, allowance_dimension, period_start)
  );
  `,
  // Claims walk these in order and stop at their LIMIT, instead of sorting every open or pending record.
  (t) => `
  CREATE INDEX meterkit_usage_records_claimable ON ${t.records} (hour, id) WHERE state IN ('pending', 'sending');
  CREATE INDEX meterkit_usage_records_open ON ${t.records} (id) WHERE state = 'open';
  `,
  // One send quota for every instance on the database: per scope, the times of the last grants (a JSON array).
  (t) => `
  CREATE TABLE IF NOT EXISTS ${t.sendSlots} (
    scope text PRIMARY KEY,
    times text NOT NULL
  );
  `,
  // Records being sent leave the index claims walk, which would otherwise step over every record leased so far:
  // pending records by (hour, id), records being sent by the end of their lease.
  (t) => `
  DROP INDEX IF EXISTS ${t.schema}.meterkit_usage_records_claimable;
  CREATE INDEX meterkit_usage_records_pending ON ${t.records} (hour, id) WHERE state = 'pending';
  CREATE INDEX meterkit_usage_records_leases ON ${t.records} (lease_until) WHERE state = 'sending';
  `,
  // Background work pages through the customers it needs (findCustomers()) on indexes: the fields it filters on are
  // kept in columns of their own from now on, filled in here for the customers already stored.
  (t) => `
  ALTER TABLE ${t.customers}
    ADD COLUMN IF NOT EXISTS status text,
    ADD COLUMN IF NOT EXISTS agreement_id text,
    ADD COLUMN IF NOT EXISTS successor_agreement_id text,
    ADD COLUMN IF NOT EXISTS license_id text;
  UPDATE ${t.customers} SET
    status = record::jsonb ->> 'status',
    agreement_id = record::jsonb ->> 'agreementId',
    successor_agreement_id = record::jsonb ->> 'successorAgreementId',
    license_id = CASE WHEN record::jsonb #>> '{identity,kind}' = 'license'
      THEN substring(record::jsonb #>> '{identity,licenseArn}' from '(l-[0-9a-zA-Z]+)$') END;
  CREATE INDEX IF NOT EXISTS meterkit_customers_by_status ON ${t.customers} (status, key);
  CREATE INDEX IF NOT EXISTS meterkit_customers_by_agreement ON ${t.customers} (agreement_id, key) WHERE agreement_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS meterkit_customers_by_successor ON ${t.customers} (successor_agreement_id, key) WHERE successor_agreement_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS meterkit_customers_by_license ON ${t.customers} (license_id, key) WHERE license_id IS NOT NULL;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Creates or upgrades the schema inside the caller's transaction, under a transaction-scoped advisory lock,
 * so that instances starting together migrate once. Refuses a schema written by a newer meterkit.
 */
export async function migrate(client: PoolClient, tables: Tables, schemaName: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`meterkit:schema:${schemaName}`]);
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaName]);
  if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${tables.schema}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${tables.meta} (key text PRIMARY KEY, value text NOT NULL)`);
  const current = await readSchemaVersion(client, tables);
  if (current > SCHEMA_VERSION) {
    throw new MeterkitError(
      ErrorCodes.STORE_SCHEMA,
      `The PostgreSQL schema ${JSON.stringify(schemaName)} has meterkit schema version ${current}, newer than the ${SCHEMA_VERSION} this meterkit knows: upgrade meterkit`,
      { details: { schemaVersion: current, supportedVersion: SCHEMA_VERSION } },
    );
  }
  if (current === SCHEMA_VERSION) return;
  for (const migration of MIGRATIONS.slice(current)) await client.query(migration(tables));
  await client.query(
    `INSERT INTO ${tables.meta} (key, value) VALUES ('schema_version', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [String(SCHEMA_VERSION)],
  );
}

async function readSchemaVersion(client: PoolClient, tables: Tables): Promise<number> {
  const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${tables.meta} WHERE key = 'schema_version'`);
  if (rows[0] === undefined) return 0;
  const version = Number(rows[0].value);
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new MeterkitError(ErrorCodes.STORE_SCHEMA, 'The PostgreSQL schema has an unreadable meterkit schema version', {
      details: { schemaVersion: rows[0].value },
    });
  }
  return version;
}
