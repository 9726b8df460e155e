import {
  assertExtendSendSlotRequest,
  assertSendSlotRequest,
  assertStorableDelta,
  assertStorableEntitlementSet,
  assertStorableUse,
  ErrorCodes,
  isMeterkitError,
  MeterkitError,
  TERMINAL_STATES,
} from '@meterkit/core';
import type {
  AddUsageAboveIncludedResult,
  AddUsageResult,
  AllowanceCounter,
  ClaimRequest,
  CustomerQuery,
  CustomerRecord,
  CustomerWriteCondition,
  EntitlementSet,
  EntitlementStore,
  FinalTotal,
  IncludedUse,
  RecordQuery,
  Release,
  SetTotalResult,
  Settlement,
  StoreStats,
  StoredRecord,
  UsageDelta,
  UsageStore,
} from '@meterkit/core';
import type { Pool } from 'pg';
import * as claims from './claim-operations';
import * as customers from './customer-operations';
import * as entitlements from './entitlement-operations';
import { resolvePostgresOptions } from './options';
import type { PostgresStoreOptions } from './options';
import * as queries from './query-operations';
import * as sendSlots from './send-slot-operations';
import { migrate } from './schema';
import { tablesIn } from './tables';
import type { Tables } from './tables';
import { inTransaction, pgCode } from './transaction';
import * as usage from './usage-operations';

/**
 * The store for several app instances sharing usage in PostgreSQL. Increments are atomic upserts; claims
 * lease records with `FOR UPDATE SKIP LOCKED`, so that each closed hour is sent by exactly one instance, and
 * a lease left by an instance that died expires and is taken over.
 */
export class PostgresStore implements UsageStore, EntitlementStore {
  readonly kind = 'postgres';
  readonly durable = true;

  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly schema: string;
  private readonly tables: Tables;
  private opening: Promise<void> | undefined;
  private opened = false;
  private closed = false;

  /** Takes a connection string or options (the store opens and ends its own pool), or a pg Pool the caller keeps. */
  constructor(options: PostgresStoreOptions | Pool | string) {
    const resolved = resolvePostgresOptions(options);
    this.pool = resolved.pool;
    this.ownsPool = resolved.ownsPool;
    this.schema = resolved.schema;
    this.tables = tablesIn(resolved.schema);
  }

  /** Creates or migrates the schema; safe when several instances start at once. */
  async open(): Promise<void> {
    if (this.closed) throw closedError();
    this.opening ??= inTransaction(this.pool, (client) => migrate(client, this.tables, this.schema)).then(
      () => {
        this.opened = true;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw asStoreError(error, 'open the PostgreSQL store');
      },
    );
    return this.opening;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opened = false;
    await this.opening?.catch(() => undefined);
    if (this.ownsPool) await this.pool.end();
  }

  async addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    this.assertReady('add usage');
    deltas.forEach(assertStorableDelta);
    if (deltas.length === 0) return { late: [] };
    return this.transaction('add usage', (client) => usage.addUsage(client, this.tables, deltas, batchId));
  }

  async setTotal(total: FinalTotal, now: number): Promise<SetTotalResult> {
    return this.transaction('set a total', (client) => usage.setTotal(client, this.tables, total, now));
  }

  async claim(request: ClaimRequest): Promise<StoredRecord[]> {
    return this.transaction('claim records', (client) => claims.claim(client, this.tables, request));
  }

  async journal(ids: readonly string[], owner: string, now: number): Promise<string[]> {
    return this.transaction('journal attempts', (client) => claims.journal(client, this.tables, ids, owner, now));
  }

  async settle(settlements: readonly Settlement[], owner: string, now: number): Promise<void> {
    this.assertReady('settle records');
    settlements.forEach((settlement) => assertTerminal(settlement.state));
    return this.transaction('settle records', (client) => claims.settle(client, this.tables, settlements, owner, now));
  }

  async clearMayHaveLanded(ids: readonly string[], owner: string): Promise<void> {
    return this.transaction('clear may-have-landed marks', (client) => claims.clearMayHaveLanded(client, this.tables, ids, owner));
  }

  async release(releases: readonly Release[], owner: string): Promise<void> {
    return this.transaction('release records', (client) => claims.release(client, this.tables, releases, owner));
  }

  async redrive(ids: readonly string[], now: number): Promise<string[]> {
    return this.transaction('redrive records', (client) => claims.redrive(client, this.tables, ids, now));
  }

  async listRecords(query: RecordQuery = {}): Promise<StoredRecord[]> {
    return this.run('list records', () => queries.listRecords(this.pool, this.tables, query));
  }

  async stats(): Promise<StoreStats> {
    return this.transaction('read stats', (client) => queries.stats(client, this.tables), 'REPEATABLE READ READ ONLY');
  }

  async putCustomer(customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
    return this.run('store a customer', () => customers.putCustomer(this.pool, this.tables, customer, condition));
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    return this.run('read a customer', () => customers.getCustomer(this.pool, this.tables, key));
  }

  async findCustomerByTenant(tenantId: string): Promise<CustomerRecord | undefined> {
    return this.run('find a customer', () => customers.findCustomerByTenant(this.pool, this.tables, tenantId));
  }

  async listCustomers(): Promise<CustomerRecord[]> {
    return this.run('list customers', () => customers.listCustomers(this.pool, this.tables));
  }

  async findCustomers(query: CustomerQuery): Promise<CustomerRecord[]> {
    return this.run('find customers', () => customers.findCustomers(this.pool, this.tables, query));
  }

  async putEntitlements(set: EntitlementSet): Promise<boolean> {
    this.assertReady('store entitlements');
    assertStorableEntitlementSet(set);
    return this.run('store entitlements', () => entitlements.putEntitlements(this.pool, this.tables, set));
  }

  async getEntitlements(customerKey: string): Promise<EntitlementSet | undefined> {
    return this.run('read entitlements', () => entitlements.getEntitlements(this.pool, this.tables, customerKey));
  }

  async listEntitlements(): Promise<EntitlementSet[]> {
    return this.run('list entitlements', () => entitlements.listEntitlements(this.pool, this.tables));
  }

  async addUsageAboveIncluded(deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string): Promise<AddUsageAboveIncludedResult> {
    this.assertReady('add included usage');
    deltas.forEach(assertStorableDelta);
    uses.forEach(assertStorableUse);
    return this.transaction('add included usage', (client) =>
      entitlements.addUsageAboveIncluded(client, this.tables, deltas, uses, batchId),
    );
  }

  async listAllowanceCounters(customerKey: string): Promise<AllowanceCounter[]> {
    return this.run('list allowance counters', () => entitlements.listAllowanceCounters(this.pool, this.tables, customerKey));
  }

  /** One send quota for every instance on the database: one row per scope, locked while it is decided. */
  async takeSendSlot(scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
    this.assertReady('take a send slot');
    assertSendSlotRequest(scope, now, capacity, windowMs);
    return this.transaction('take a send slot', (client) => sendSlots.takeSendSlot(client, this.tables, scope, now, capacity, windowMs));
  }

  async extendSendSlot(scope: string, grantedAt: number, until: number): Promise<void> {
    this.assertReady('extend a send slot');
    assertExtendSendSlotRequest(scope, grantedAt, until);
    return this.transaction('extend a send slot', (client) => sendSlots.extendSendSlot(client, this.tables, scope, grantedAt, until));
  }

  private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    this.assertReady(action);
    try {
      return await work();
    } catch (error) {
      throw asStoreError(error, action);
    }
  }

  private transaction<T>(
    action: string,
    work: Parameters<typeof inTransaction<T>>[1],
    isolation?: Parameters<typeof inTransaction<T>>[2],
  ): Promise<T> {
    return this.run(action, () => inTransaction(this.pool, work, isolation));
  }

  private assertReady(action: string): void {
    if (this.closed) throw closedError();
    if (!this.opened) throw new MeterkitError(ErrorCodes.STORE, `Cannot ${action}: call open() on the PostgreSQL store first`);
  }
}

/** The pg message and SQLSTATE: neither carries usage or customer identifiers. */
function asStoreError(error: unknown, action: string): MeterkitError {
  if (isMeterkitError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = pgCode(error);
  return new MeterkitError(ErrorCodes.STORE, `PostgreSQL store failed to ${action}: ${message}`, {
    details: code === undefined ? {} : { pgCode: code },
    cause: error,
  });
}

function closedError(): MeterkitError {
  return new MeterkitError(ErrorCodes.CLOSED, 'The PostgreSQL store is closed');
}

function assertTerminal(state: string): void {
  if (!(TERMINAL_STATES as readonly string[]).includes(state)) {
    throw new MeterkitError(ErrorCodes.STORE, `A record cannot be settled as ${JSON.stringify(state)}: not a terminal state`);
  }
}
