import type Database from 'better-sqlite3';
import type { AllocationDbRow, AllowanceCounterRow, CustomerDbRow, UsageRecordRow } from './rows';

interface CustomerParams {
  key: string;
  tenantId: string | null;
  updatedAt: number;
  record: string;
  licenseId: string | null;
}

/** A record a claim may lease, with the hour it is ordered by. */
export interface ClaimableRow {
  readonly id: string;
  readonly hour: number;
}

/** The part of a prepared statement the store uses: parameters P, rows R. */
export interface Query<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Every statement the store runs, prepared once per connection. */
export function prepareStatements(db: Database.Database) {
  const prepare = <P extends unknown[], R = unknown>(sql: string): Query<P, R> => db.prepare<P, R>(sql);
  const forced = 'customer_key IN (SELECT value FROM json_each(@forced))';
  return {
    // Usage mostly adds to rows that exist: an UPDATE, then an INSERT only when it found no row (inside the write
    // transaction, so no other writer comes between), and the customer's and tags' JSON only for a new row.
    addToRecord: prepare<[number, string], { state: string }>('UPDATE usage_records SET quantity = quantity + ? WHERE id = ? RETURNING state'),
    insertRecord: prepare<
      [{ id: string; customerKey: string; productCode: string; customer: string; dimension: string; hour: number; quantity: number }]
    >(`
      INSERT INTO usage_records (id, customer_key, product_code, customer, dimension, hour, state, quantity, source)
      VALUES (@id, @customerKey, @productCode, @customer, @dimension, @hour, 'open', @quantity, 'metered')`),
    addToAllocation: prepare<[number, string, string]>('UPDATE usage_allocations SET quantity = quantity + ? WHERE record_id = ? AND tags_key = ?'),
    insertAllocation: prepare<[{ recordId: string; tagsKey: string; tags: string | null; quantity: number }]>(`
      INSERT INTO usage_allocations (record_id, tags_key, tags, quantity) VALUES (@recordId, @tagsKey, @tags, @quantity)`),
    insertTotal: prepare<
      [{ id: string; customerKey: string; productCode: string; customer: string; dimension: string; hour: number; quantity: number; frozen: string; now: number }]
    >(`
      INSERT INTO usage_records
        (id, customer_key, product_code, customer, dimension, hour, state, quantity, frozen, source, next_attempt_at)
      VALUES (@id, @customerKey, @productCode, @customer, @dimension, @hour, 'pending', @quantity, @frozen, 'total', @now)`),
    recordById: prepare<[string], UsageRecordRow>('SELECT * FROM usage_records WHERE id = ?'),
    recordBatch: prepare<[{ id: string; now: number }]>('INSERT OR IGNORE INTO applied_batches (id, applied_at) VALUES (@id, @now)'),
    forgetBatches: prepare<[{ before: number; limit: number }]>(`
      DELETE FROM applied_batches
      WHERE rowid IN (SELECT rowid FROM applied_batches WHERE applied_at < @before ORDER BY applied_at LIMIT @limit)`),
    allocationsOf: prepare<[string], AllocationDbRow>(
      'SELECT tags_key, tags, quantity FROM usage_allocations WHERE record_id = ?',
    ),

    dueOpenRecords: prepare<[{ dueBefore: number; limit: number }], { id: string }>(`
      SELECT id FROM usage_records INDEXED BY usage_records_by_state_hour_id
      WHERE state = 'open' AND hour < @dueBefore
      LIMIT @limit`),
    forcedOpenRecords: prepare<[{ forced: string; limit: number }], { id: string }>(`
      SELECT id FROM usage_records INDEXED BY usage_records_by_customer
      WHERE ${forced} AND state = 'open'
      LIMIT @limit`),
    freeze: prepare<[{ id: string; frozen: string; now: number }]>(`
      UPDATE usage_records SET state = 'pending', frozen = @frozen, next_attempt_at = coalesce(next_attempt_at, @now)
      WHERE id = @id AND state = 'open'`),
    // Three indexed queries, each stopping at the limit: forced customers' claimable records (on customer_key),
    // pending records in (hour, id) order (on the claim index), expired leases (on lease_until). The store merges them.
    forcedClaimable: prepare<[{ now: number; forced: string; limit: number }], ClaimableRow>(`
      SELECT id, hour FROM usage_records INDEXED BY usage_records_by_customer
      WHERE ${forced}
        AND ((state = 'pending' AND next_attempt_at <= @now) OR (state = 'sending' AND lease_until <= @now))
      ORDER BY hour, id
      LIMIT @limit`),
    pendingClaimable: prepare<[{ now: number; limit: number }], ClaimableRow>(`
      SELECT id, hour FROM usage_records INDEXED BY usage_records_by_state_hour_id
      WHERE state = 'pending' AND next_attempt_at <= @now
      ORDER BY state, hour, id
      LIMIT @limit`),
    expiredLeases: prepare<[{ now: number; limit: number }], ClaimableRow>(`
      SELECT id, hour FROM usage_records INDEXED BY usage_records_by_state_lease
      WHERE state = 'sending' AND lease_until <= @now
      ORDER BY hour, id
      LIMIT @limit`),
    lease: prepare<[{ id: string; owner: string; leaseUntil: number }], UsageRecordRow>(`
      UPDATE usage_records SET state = 'sending', lease_owner = @owner, lease_until = @leaseUntil
      WHERE id = @id
      RETURNING *`),

    journal: prepare<[{ id: string; owner: string; now: number }]>(`
      UPDATE usage_records SET attempts = attempts + 1, last_attempt_at = @now, may_have_landed = 1
      WHERE id = @id AND state = 'sending' AND lease_owner = @owner AND lease_until > @now`),
    clearMayHaveLanded: prepare<[{ id: string; owner: string }]>(`
      UPDATE usage_records SET may_have_landed = 0
      WHERE id = @id AND state = 'sending' AND lease_owner = @owner`),
    settle: prepare<
      [{ id: string; owner: string; state: string; now: number; meteringRecordId: string | null; reason: string | null }]
    >(`
      UPDATE usage_records
      SET state = @state, settled_at = @now, metering_record_id = @meteringRecordId, reason = @reason,
          lease_owner = NULL, lease_until = NULL
      WHERE id = @id AND state = 'sending' AND lease_owner = @owner`),
    release: prepare<[{ id: string; owner: string; nextAttemptAt: number; reason: string | null }]>(`
      UPDATE usage_records
      SET state = 'pending', next_attempt_at = @nextAttemptAt, reason = @reason, lease_owner = NULL, lease_until = NULL
      WHERE id = @id AND state = 'sending' AND lease_owner = @owner`),
    redrive: prepare<[{ id: string; now: number }]>(`
      UPDATE usage_records
      SET state = 'pending', next_attempt_at = @now, reason = NULL, settled_at = NULL, metering_record_id = NULL
      WHERE id = @id AND state IN ('rejected', 'not-subscribed', 'pending')`),

    listRecords: prepare<
      [{ states: string | null; customerKey: string | null; hourFrom: number | null; hourTo: number | null; limit: number }],
      UsageRecordRow
    >(`
      SELECT * FROM usage_records
      WHERE (@states IS NULL OR state IN (SELECT value FROM json_each(@states)))
        AND (@customerKey IS NULL OR customer_key = @customerKey)
        AND (@hourFrom IS NULL OR hour >= @hourFrom)
        AND (@hourTo IS NULL OR hour < @hourTo)
      ORDER BY hour, id
      LIMIT @limit`),
    countsByState: prepare<[], { state: string; count: number }>(
      'SELECT state, count(*) AS count FROM usage_records GROUP BY state',
    ),
    unsettledByHour: prepare<[], { hour: number; records: number; quantity: number }>(`
      SELECT hour, count(*) AS records, sum(quantity) AS quantity FROM usage_records
      WHERE state IN ('open', 'pending', 'sending')
      GROUP BY hour ORDER BY hour`),
    lateQuantity: prepare<[], { late: number }>(`
      SELECT coalesce(sum(quantity - json_extract(frozen, '$.quantity')), 0) AS late
      FROM usage_records WHERE frozen IS NOT NULL`),
    lastSentAt: prepare<[], { last: number | null }>(`SELECT max(settled_at) AS last FROM usage_records WHERE state = 'sent'`),

    putCustomer: prepare<[CustomerParams]>(`
      INSERT INTO customers (key, tenant_id, updated_at, record, license_id, version) VALUES (@key, @tenantId, @updatedAt, @record, @licenseId, 1)
      ON CONFLICT (key) DO UPDATE
      SET tenant_id = excluded.tenant_id, updated_at = excluded.updated_at, record = excluded.record, license_id = excluded.license_id,
          version = customers.version + 1`),
    insertCustomer: prepare<[CustomerParams]>(`
      INSERT INTO customers (key, tenant_id, updated_at, record, license_id, version) VALUES (@key, @tenantId, @updatedAt, @record, @licenseId, 1)
      ON CONFLICT (key) DO NOTHING`),
    replaceCustomerVersion: prepare<[CustomerParams & { expectedVersion: number }]>(`
      UPDATE customers SET tenant_id = @tenantId, updated_at = @updatedAt, record = @record, license_id = @licenseId, version = version + 1
      WHERE key = @key AND version = @expectedVersion`),
    customerByKey: prepare<[string], CustomerDbRow>('SELECT record, version FROM customers WHERE key = ?'),
    customerByTenant: prepare<[string], CustomerDbRow>(
      'SELECT record, version FROM customers WHERE tenant_id = ? ORDER BY updated_at DESC, key LIMIT 1',
    ),
    customers: prepare<[], CustomerDbRow>('SELECT record, version FROM customers ORDER BY key'),

    putEntitlements: prepare<[{ customerKey: string; fetchedAt: number; set: string }]>(`
      INSERT INTO entitlement_sets (customer_key, fetched_at, entitlement_set) VALUES (@customerKey, @fetchedAt, @set)
      ON CONFLICT (customer_key) DO UPDATE SET fetched_at = excluded.fetched_at, entitlement_set = excluded.entitlement_set
      WHERE excluded.fetched_at > entitlement_sets.fetched_at`),
    entitlementsOf: prepare<[string], { entitlement_set: string }>(
      'SELECT entitlement_set FROM entitlement_sets WHERE customer_key = ?',
    ),
    entitlementSets: prepare<[], { entitlement_set: string }>('SELECT entitlement_set FROM entitlement_sets ORDER BY customer_key'),
    addToAllowance: prepare<
      [{ customerKey: string; allowanceDimension: string; periodStart: number; quantity: number }],
      { used: number }
    >(`
      INSERT INTO allowance_counters (customer_key, allowance_dimension, period_start, used)
      VALUES (@customerKey, @allowanceDimension, @periodStart, @quantity)
      ON CONFLICT (customer_key, allowance_dimension, period_start) DO UPDATE SET used = used + excluded.used
      RETURNING used`),
    allowanceCountersOf: prepare<[string], AllowanceCounterRow>(`
      SELECT customer_key, allowance_dimension, period_start, used FROM allowance_counters
      WHERE customer_key = ?
      ORDER BY period_start DESC, allowance_dimension`),
    sendSlotsOf: prepare<[string], { times: string }>('SELECT times FROM send_slots WHERE scope = ?'),
    putSendSlots: prepare<[{ scope: string; times: string }]>(`
      INSERT INTO send_slots (scope, times) VALUES (@scope, @times)
      ON CONFLICT (scope) DO UPDATE SET times = excluded.times`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
