import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { mask } from '../logger';
import { customerKey, type CustomerIdentity, type CustomerRecord, type CustomerStatus } from '../model/customer';
import type { Product } from '../model/product';
import type { UsageStore } from '../store/usage-store';
import { assertNotFuture } from './event-time';
import type { LifecycleChange, LifecycleEvent } from './marketplace-event';
import { updateCustomer, type CustomerDecision } from './update-customer';

/** What a subscription change means for the app: grant, keep, move or revoke access. */
export type SubscriptionChange = 'activated' | 'updated' | 'renewed' | 'replaced' | 'deprovisioning' | 'ended';

export interface SubscriptionEvent {
  readonly change: SubscriptionChange;
  readonly customer: CustomerRecord;
  /** For renewed / replaced: the customer whose agreement this one succeeds. */
  readonly previous?: CustomerRecord;
  readonly eventType: string;
  readonly eventId: string;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale' | 'ignored';

export interface LifecycleDeps {
  readonly store: () => Promise<UsageStore>;
  readonly products: ReadonlyMap<string, Product>;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Sends every unsettled hour of these customers now, the current one included. */
  readonly finalFlush: (customerKeys: string[]) => void;
  /** Drops cached customer lookups after a status change. */
  readonly forget: () => void;
  /** The final usage must be sent this long after the earlier of Agreement Ended and License Deprovisioned. */
  readonly finalUsageMs: number;
  /** Events dated further than this after the clock are refused. */
  readonly maxFutureSkewMs: number;
}

const RECENT_EVENT_IDS = 20;
/** AWS accepts a deprovisioned license's usage for about an hour; after that the customer is inactive. */
const INACTIVE_AFTER_DEADLINE_MS = 10 * 60_000;
const SUPERSEDED = new Set(['RENEWED', 'REPLACED']);
const ACTIVATING = new Set(['license-updated', 'legacy-subscribe-success']);

/**
 * Applies AWS Marketplace lifecycle events to the customer registry, idempotently and in event-time order:
 * a redelivered event changes nothing, an event older than the state it would change is ignored.
 * Every change is a conditional write over the state it was decided on (see updateCustomer), so concurrent
 * events, on one instance or several sharing a store, end as if applied one by one in event-time order.
 */
export class Lifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  async apply(event: LifecycleEvent): Promise<ApplyOutcome> {
    // A far-future event would make every later genuine event of its customer look stale.
    assertNotFuture(event.time, this.d.clock(), this.d.maxFutureSkewMs);
    const change = event.change;
    if (change === undefined) return 'ignored';
    switch (change.kind) {
      case 'license-updated':
      case 'license-deprovisioned':
        return this.applyLicense(event, change);
      case 'agreement-created':
        return this.applyAgreementCreated(event, change);
      case 'agreement-amended':
        return this.applyToAgreement(change.agreementId, (c) => this.save(event, c, {}, 'updated'));
      case 'agreement-ended':
        return this.applyToAgreement(change.agreementId, (c) =>
          SUPERSEDED.has(change.status.toUpperCase())
            ? this.save(event, c, { agreementStatus: change.status }, 'ended')
            : this.startFinalUsage(event, c, { agreementStatus: change.status }),
        );
      default:
        return this.applyLegacy(event, change);
    }
  }

  /** Customers inside their final-usage window, whose hours are sent without waiting for the lock. */
  async finalUsageCustomers(): Promise<string[]> {
    const now = this.d.clock();
    const store = await this.d.store();
    const keys: string[] = [];
    for (const listed of await store.listCustomers()) {
      if (listed.status !== 'deprovisioning') continue;
      const closed = await updateCustomer(store, listed.key, (customer): CustomerDecision<boolean> => {
        if (customer?.status !== 'deprovisioning') return { result: true };
        if (customer.finalUsageDeadline === undefined || now < customer.finalUsageDeadline + INACTIVE_AFTER_DEADLINE_MS) return { result: false };
        return {
          result: true,
          write: { ...customer, status: 'inactive', updatedAt: now },
          afterWrite: (written) => {
            this.d.forget();
            this.emit('ended', written, 'FinalUsageWindowClosed', `deadline:${written.key}`);
          },
        };
      });
      if (!closed) keys.push(listed.key);
    }
    return keys;
  }

  private async applyLicense(event: LifecycleEvent, change: Extract<LifecycleChange, { licenseArn: string }>): Promise<ApplyOutcome> {
    const product = this.d.products.get(change.productCode);
    if (product === undefined || product.identity !== 'license') {
      this.d.logger.warn({ productCode: change.productCode, event: event.type }, 'lifecycle event for a product this app does not meter; ignored');
      return 'ignored';
    }
    const identity: CustomerIdentity = { kind: 'license', licenseArn: change.licenseArn, customerAwsAccountId: change.accountId, productCode: change.productCode };
    const agreement = change.agreementId === undefined ? {} : { agreementId: change.agreementId };
    const store = await this.d.store();
    let moved: { from: CustomerRecord; tenantId: string } | undefined;
    const outcome = await updateCustomer(store, () => this.findLicense(change.licenseArn), async (existing) => {
      moved = undefined;
      const current = existing ?? this.newCustomer(identity);
      if (change.kind === 'license-deprovisioned') return this.startFinalUsage(event, current, agreement);

      const skip = this.skip(event, existing);
      if (skip !== undefined) return { result: skip };
      const predecessor = change.agreementId === undefined ? undefined : await this.predecessorOf(change.agreementId, current.key);
      let kind: SubscriptionChange = existing === undefined || existing.status === 'inactive' || existing.status === 'deprovisioning' ? 'activated' : 'updated';
      if (existing !== undefined && change.agreementId !== undefined && existing.agreementId !== undefined && existing.agreementId !== change.agreementId) {
        kind = 'renewed';
      }
      let tenant: { tenantId?: string } = {};
      if (predecessor !== undefined) {
        kind = predecessor.key === current.key ? 'renewed' : 'replaced';
        if (predecessor.key !== current.key && predecessor.tenantId !== undefined && current.tenantId === undefined) {
          tenant = { tenantId: predecessor.tenantId };
          moved = { from: predecessor, tenantId: predecessor.tenantId };
        }
      }
      const { finalUsageDeadline: _cleared, ...rest } = current;
      return this.save(event, rest, { ...agreement, ...tenant, status: 'active', agreementStatus: 'ACTIVE' }, kind, predecessor);
    });
    // The tenant is linked to the successor first: until the predecessor lets go, the most recent link wins.
    if (outcome === 'applied' && moved !== undefined) await this.unlinkTenant(moved.from.key, moved.tenantId);
    return outcome;
  }

  private async unlinkTenant(key: string, tenantId: string): Promise<void> {
    await updateCustomer(await this.d.store(), key, (customer): CustomerDecision<void> => {
      if (customer?.tenantId !== tenantId) return { result: undefined };
      const { tenantId: _moved, ...rest } = customer;
      return { result: undefined, write: { ...rest, updatedAt: this.d.clock() }, afterWrite: () => this.d.forget() };
    });
  }

  private async applyAgreementCreated(event: LifecycleEvent, change: Extract<LifecycleChange, { kind: 'agreement-created' }>): Promise<ApplyOutcome> {
    if (change.previousAgreementId === undefined) return 'ignored';
    return this.applyToAgreement(change.previousAgreementId, (c) => {
      if (this.skip(event, c) !== undefined) return { result: 'duplicate' };
      return {
        result: 'applied',
        write: { ...c, successorAgreementId: change.agreementId, updatedAt: this.d.clock(), recentEventIds: this.remember(c, event) },
        afterWrite: () => this.d.forget(),
      };
    });
  }

  private async applyLegacy(event: LifecycleEvent, change: Extract<LifecycleChange, { customerIdentifier: string }>): Promise<ApplyOutcome> {
    const product = this.d.products.get(change.productCode);
    if (product === undefined || product.identity !== 'legacy') {
      this.d.logger.warn({ productCode: change.productCode, event: event.type }, 'notification for a product this app does not meter; ignored');
      return 'ignored';
    }
    const identity: CustomerIdentity = { kind: 'legacy', productCode: change.productCode, customerIdentifier: change.customerIdentifier };
    return updateCustomer(await this.d.store(), customerKey(identity), (existing): CustomerDecision<ApplyOutcome> => {
      const current = existing ?? this.newCustomer(identity);
      switch (change.kind) {
        case 'legacy-subscribe-success':
          return this.save(event, current, { status: 'active' }, existing === undefined || existing.status !== 'active' ? 'activated' : 'updated');
        case 'legacy-subscribe-fail':
          return this.save(event, current, { status: 'inactive' }, 'ended');
        case 'legacy-unsubscribe-pending':
          return this.startFinalUsage(event, current, {});
        case 'legacy-unsubscribe-success':
          return this.save(event, current, { status: 'inactive' }, 'ended');
        case 'legacy-entitlement-updated':
          return existing === undefined ? { result: 'ignored' } : this.save(event, current, {}, 'updated');
      }
    });
  }

  /** Opens the final-usage window (on the earlier of Agreement Ended and License Deprovisioned) and flushes. */
  private startFinalUsage(event: LifecycleEvent, customer: CustomerRecord, fields: Partial<CustomerRecord>): CustomerDecision<ApplyOutcome> {
    if (customer.status === 'inactive' && customer.lastEventAt !== undefined && customer.lastEventAt >= event.time) return { result: 'stale' };
    const deadline = Math.min(customer.finalUsageDeadline ?? Number.POSITIVE_INFINITY, event.time + this.d.finalUsageMs);
    const decision = this.save(event, customer, { ...fields, status: 'deprovisioning', finalUsageDeadline: deadline }, 'deprovisioning');
    if (decision.write === undefined) return decision;
    return {
      ...decision,
      afterWrite: (written) => {
        decision.afterWrite?.(written);
        this.d.finalFlush([written.key]);
      },
    };
  }

  /** Applies `decide` to each customer of the agreement, each as a conditional write of its own. */
  private async applyToAgreement(agreementId: string, decide: (c: CustomerRecord) => CustomerDecision<ApplyOutcome>): Promise<ApplyOutcome> {
    const store = await this.d.store();
    const customers = (await store.listCustomers()).filter((c) => c.agreementId === agreementId);
    if (customers.length === 0) return 'ignored';
    const outcomes = await Promise.all(
      customers.map((listed) =>
        updateCustomer(store, listed.key, (c): CustomerDecision<ApplyOutcome> => (c === undefined || c.agreementId !== agreementId ? { result: 'ignored' } : decide(c))),
      ),
    );
    return outcomes.includes('applied') ? 'applied' : outcomes[0]!;
  }

  /** The write that applies `event` to `customer`, or why it does not apply. */
  private save(
    event: LifecycleEvent,
    customer: CustomerRecord,
    fields: Partial<CustomerRecord> & { status?: CustomerStatus },
    change: SubscriptionChange,
    previous?: CustomerRecord,
  ): CustomerDecision<ApplyOutcome> {
    const skip = this.skip(event, customer.registeredAt === 0 ? undefined : customer);
    if (skip !== undefined) return { result: skip };
    const now = this.d.clock();
    const updated: CustomerRecord = {
      ...customer,
      ...fields,
      registeredAt: customer.registeredAt === 0 ? now : customer.registeredAt,
      updatedAt: now,
      lastEventAt: Math.max(customer.lastEventAt ?? 0, event.time),
      recentEventIds: this.remember(customer, event),
    };
    return {
      result: 'applied',
      write: updated,
      afterWrite: (written) => {
        this.d.forget();
        this.emit(change, written, event.type, event.id, previous);
      },
    };
  }

  private skip(event: LifecycleEvent, customer: CustomerRecord | undefined): ApplyOutcome | undefined {
    if (customer === undefined) return undefined;
    if (customer.recentEventIds?.includes(event.id)) return 'duplicate';
    const last = customer.lastEventAt;
    // Event times have one-second resolution: on a tie, an activation never reopens a leaving customer.
    const reopens = ACTIVATING.has(event.change?.kind ?? '') && (customer.status === 'deprovisioning' || customer.status === 'inactive');
    if (last !== undefined && (event.time < last || (event.time === last && reopens))) {
      this.d.logger.info({ customer: mask(customer.key), event: event.type }, 'lifecycle event older than the state it would change; ignored');
      return 'stale';
    }
    return undefined;
  }

  private remember(customer: CustomerRecord, event: LifecycleEvent): string[] {
    return [...(customer.recentEventIds ?? []), event.id].slice(-RECENT_EVENT_IDS);
  }

  private newCustomer(identity: CustomerIdentity): CustomerRecord {
    return { key: customerKey(identity), identity, status: 'registered', registeredAt: 0, updatedAt: 0 };
  }

  /** By exact ARN first, then by the license id (`l-…`), since AWS prints ARNs in more than one form. */
  private async findLicense(licenseArn: string): Promise<CustomerRecord | undefined> {
    const store = await this.d.store();
    const exact = await store.getCustomer(`license:${licenseArn}`);
    if (exact !== undefined) return exact;
    const id = /(l-[0-9a-zA-Z]+)$/.exec(licenseArn)?.[1];
    if (id === undefined) return undefined;
    return (await store.listCustomers()).find((c) => c.identity.kind === 'license' && c.identity.licenseArn.endsWith(id));
  }

  private async predecessorOf(agreementId: string, key: string): Promise<CustomerRecord | undefined> {
    const customers = await (await this.d.store()).listCustomers();
    return customers.find((c) => c.successorAgreementId === agreementId && (c.key !== key || c.agreementId !== agreementId));
  }

  private emit(change: SubscriptionChange, customer: CustomerRecord, eventType: string, eventId: string, previous?: CustomerRecord): void {
    this.d.logger.info({ customer: mask(customer.key), change, event: eventType }, 'subscription changed');
    this.d.events.emit('subscription', { change, customer, eventType, eventId, ...(previous === undefined ? {} : { previous }) });
  }
}
