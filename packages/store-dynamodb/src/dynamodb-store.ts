import { randomUUID } from 'node:crypto';
import { assertExtendSendSlotRequest, assertSendSlotRequest, assertStorableDelta, assertStorableEntitlementSet, assertStorableUse, ErrorCodes, MeterkitError, TERMINAL_STATES } from '@meterkit/core';
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
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as claims from './claims';
import type { ClaimSettings } from './claims';
import * as customers from './customers';
import { asStoreError, closedError } from './dynamo-errors';
import * as entitlements from './entitlements';
import { resolveDynamoDbOptions } from './options';
import type { DynamoDbStoreOptions, ResolvedDynamoDbOptions } from './options';
import * as queries from './queries';
import * as sendSlots from './send-slots';
import { SharedReads } from './shared-reads';
import { CallPacer } from './call-pacer';
import { Table } from './table';
import { UsageWriter } from './usage-writer';

/**
 * The store for app instances and AWS Lambda functions sharing usage in one DynamoDB table. Increments are
 * single-item atomic updates (a write to several records is journaled first, so that it applies all or
 * nothing), and claims lease records with conditional writes, so that each closed hour is sent by exactly one
 * sender; a lease left by a sender that died expires and is taken over.
 */
export class DynamoDbStore implements UsageStore, EntitlementStore {
  readonly kind = 'dynamodb';
  readonly durable = true;

  /** The table's name, as given or defaulted. */
  readonly tableName: string;
  private readonly options: ResolvedDynamoDbOptions;
  private readonly table: Table;
  private readonly writer: UsageWriter;
  private readonly claimSettings: ClaimSettings;
  /** Customer lookups under way, shared by the lookups of the same tenant or key that start meanwhile. */
  private readonly customerReads = new SharedReads<CustomerRecord | undefined>();
  private opening: Promise<void> | undefined;
  private opened = false;
  private closed = false;

  constructor(options: DynamoDbStoreOptions = {}) {
    this.options = resolveDynamoDbOptions(options);
    this.tableName = this.options.tableName;
    this.table = new Table(this.options.client, this.options.tableName, new CallPacer(this.options.callsPerTurn));
    const o = this.options;
    this.writer = new UsageWriter({
      table: this.table,
      owner: `dynamodb-store-${randomUUID()}`,
      conflictRetries: o.conflictRetries,
      recoverBatchesAfterMs: o.recoverBatchesAfterMs,
      concurrency: o.concurrency,
    });
    this.claimSettings = { table: this.table, conflictRetries: o.conflictRetries, concurrency: o.concurrency, settledTtlSeconds: o.settledTtlSeconds };
  }

  /** The client the store uses. */
  get client(): DynamoDBClient {
    return this.options.client;
  }

  /**
   * Creates the table with its indexes (on-demand capacity) and waits until it is active; nothing happens if it
   * exists. For development and tests: create production tables with infrastructure as code (see the README).
   */
  async createTable(): Promise<void> {
    if (this.closed) throw closedError();
    try {
      await this.table.create();
    } catch (error) {
      throw asStoreError(error, `create the table ${this.tableName}`);
    }
  }

  /** Checks that the table exists and is active. Creates nothing: see createTable(). */
  async open(): Promise<void> {
    if (this.closed) throw closedError();
    this.opening ??= this.table.exists().then(
      (exists) => {
        if (!exists) {
          this.opening = undefined;
          throw new MeterkitError(ErrorCodes.STORE, `The DynamoDB table ${this.tableName} does not exist or is not active: create it first (createTable() in development).`);
        }
        this.opened = true;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw asStoreError(error, `open the table ${this.tableName}`);
      },
    );
    return this.opening;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opened = false;
    await this.opening?.catch(() => undefined);
    if (this.options.ownsClient) this.options.client.destroy();
  }

  async addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    this.assertReady('add usage');
    deltas.forEach(assertStorableDelta);
    return this.run('add usage', () => this.writer.addUsage(deltas, batchId));
  }

  async setTotal(total: FinalTotal, now: number): Promise<SetTotalResult> {
    return this.run('set a total', () => this.writer.setTotal(total, now));
  }

  async claim(request: ClaimRequest): Promise<StoredRecord[]> {
    return this.run('claim records', async () => {
      await this.writer.recoverBatches();
      return claims.claim(this.claimSettings, request);
    });
  }

  async journal(ids: readonly string[], owner: string, now: number): Promise<string[]> {
    return this.run('journal attempts', () => claims.journal(this.claimSettings, ids, owner, now));
  }

  async settle(settlements: readonly Settlement[], owner: string, now: number): Promise<void> {
    this.assertReady('settle records');
    for (const settlement of settlements) {
      if (!(TERMINAL_STATES as readonly string[]).includes(settlement.state)) {
        throw new MeterkitError(ErrorCodes.STORE, `A record cannot be settled as ${JSON.stringify(settlement.state)}: not a terminal state`);
      }
    }
    return this.run('settle records', () => claims.settle(this.claimSettings, settlements, owner, now));
  }

  async clearMayHaveLanded(ids: readonly string[], owner: string): Promise<void> {
    return this.run('clear may-have-landed marks', () => claims.clearMayHaveLanded(this.claimSettings, ids, owner));
  }

  async release(releases: readonly Release[], owner: string): Promise<void> {
    return this.run('release records', () => claims.release(this.claimSettings, releases, owner));
  }

  async listRecords(query: RecordQuery = {}): Promise<StoredRecord[]> {
    return this.run('list records', () => queries.listRecords(this.table, query));
  }

  async stats(): Promise<StoreStats> {
    return this.run('read stats', () => queries.stats(this.table));
  }

  async putCustomer(customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
    return this.run('store a customer', () => this.customerReads.writing(() => customers.putCustomer(this.table, customer, condition)));
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    return this.run('read a customer', () => this.customerReads.read(`customer ${key}`, () => customers.getCustomer(this.table, key)));
  }

  async findCustomerByTenant(tenantId: string): Promise<CustomerRecord | undefined> {
    return this.run('find a customer', () => this.customerReads.read(`tenant ${tenantId}`, () => customers.findCustomerByTenant(this.table, tenantId)));
  }

  async listCustomers(): Promise<CustomerRecord[]> {
    return this.run('list customers', () => customers.listCustomers(this.table));
  }

  async findCustomers(query: CustomerQuery): Promise<CustomerRecord[]> {
    return this.run('find customers', () => customers.findCustomers(this.table, query));
  }

  async putEntitlements(set: EntitlementSet): Promise<boolean> {
    this.assertReady('store entitlements');
    assertStorableEntitlementSet(set);
    return this.run('store entitlements', () => entitlements.putEntitlements(this.table, set));
  }

  async getEntitlements(customerKey: string): Promise<EntitlementSet | undefined> {
    return this.run('read entitlements', () => entitlements.getEntitlements(this.table, customerKey));
  }

  async listEntitlements(): Promise<EntitlementSet[]> {
    return this.run('list entitlements', () => entitlements.listEntitlements(this.table));
  }

  async addUsageAboveIncluded(deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string): Promise<AddUsageAboveIncludedResult> {
    this.assertReady('add included usage');
    deltas.forEach(assertStorableDelta);
    uses.forEach(assertStorableUse);
    return this.run('add included usage', () => this.writer.addUsageAboveIncluded(deltas, uses, batchId));
  }

  /** One send quota for every instance on the table: a conditional write of one item per scope. */
  async takeSendSlot(scope: string, now: number, capacity: number, windowMs: number): Promise<number> {
    this.assertReady('take a send slot');
    assertSendSlotRequest(scope, now, capacity, windowMs);
    return this.run('take a send slot', () => sendSlots.takeSendSlot(this.table, this.options.conflictRetries, scope, now, capacity, windowMs));
  }

  async extendSendSlot(scope: string, grantedAt: number, until: number): Promise<void> {
    this.assertReady('extend a send slot');
    assertExtendSendSlotRequest(scope, grantedAt, until);
    return this.run('extend a send slot', () => sendSlots.extendSendSlot(this.table, this.options.conflictRetries, scope, grantedAt, until));
  }

  async listAllowanceCounters(customerKey: string): Promise<AllowanceCounter[]> {
    return this.run('list allowance counters', () => entitlements.listAllowanceCounters(this.table, customerKey));
  }

  private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    this.assertReady(action);
    try {
      return await work();
    } catch (error) {
      throw asStoreError(error, action);
    }
  }

  private assertReady(action: string): void {
    if (this.closed) throw closedError();
    if (!this.opened) throw new MeterkitError(ErrorCodes.STORE, `Cannot ${action}: call open() on the DynamoDB store first`);
  }
}
