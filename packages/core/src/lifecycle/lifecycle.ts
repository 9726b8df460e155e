import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { mask } from '../logger';
import { customerKey, type CustomerIdentity, type CustomerRecord, type CustomerStatus } from '../model/customer';
import type { Product } from '../model/product';
import type { UsageStore } from '../store/usage-store';
import type { LifecycleChange, LifecycleEvent } from './marketplace-event';

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
}

const RECENT_EVENT_IDS = 20;
/** AWS accepts a deprovisioned license's usage for about an hour; after that the customer is inactive. */
const INACTIVE_AFTER_DEADLINE_MS = 10 * 60_000;
const SUPERSEDED = new Set(['RENEWED', 'REPLACED']);
const ACTIVATING = new Set(['license-updated', 'legacy-subscribe-success']);

/**
 * Applies AWS Marketplace lifecycle events to the customer registry, idempotently and in event-time order:
 * a redelivered event changes nothing, an event older than the state it would change is ignored.
 */
export class Lifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  async apply(event: LifecycleEvent): Promise<ApplyOutcome> {
    const change = event.change;
    if (change === undefined) return 'ignored';
    switch (change.kind) {
      case 'license-updated':
      case 'license-deprovisioned':
        return this.applyLicense(event, change);
      case 'agreement-created':
        return this.applyAgreementCreated(event, change);
      case 'agreement-amended':
        return this.applyToAgreement(event, change.agreementId, (c) => this.save(event, c, {}, 'updated'));
      case 'agreement-ended':
        return this.applyToAgreement(event, change.agreementId, (c) =>
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
    const keys: string[] = [];
    for (const customer of await (await this.d.store()).listCustomers()) {
      if (customer.status !== 'deprovisioning') continue;
      if (customer.finalUsageDeadline !== undefined && now >= customer.finalUsageDeadline + INACTIVE_AFTER_DEADLINE_MS) {
        await this.put({ ...customer, status: 'inactive', updatedAt: now });
        this.emit('ended', { ...customer, status: 'inactive' }, 'FinalUsageWindowClosed', `deadline:${customer.key}`);
      } else {
        keys.push(customer.key);
      }
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
    const existing = await this.findLicense(change.licenseArn);
    const current = existing ?? this.newCustomer(identity);
    const agreement = change.agreementId === undefined ? {} : { agreementId: change.agreementId };
    if (change.kind === 'license-deprovisioned') return this.startFinalUsage(event, current, agreement);

    const skip = this.skip(event, existing);
    if (skip !== undefined) return skip;
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
        const { tenantId: _moved, ...rest } = predecessor;
        await this.put({ ...rest, updatedAt: this.d.clock() });
      }
    }
    const { finalUsageDeadline: _cleared, ...rest } = current;
    return this.save(event, rest, { ...agreement, ...tenant, status: 'active', agreementStatus: 'ACTIVE' }, kind, predecessor);
  }

  private async applyAgreementCreated(event: LifecycleEvent, change: Extract<LifecycleChange, { kind: 'agreement-created' }>): Promise<ApplyOutcome> {
    if (change.previousAgreementId === undefined) return 'ignored';
    return this.applyToAgreement(event, change.previousAgreementId, async (c) => {
      if (this.skip(event, c) !== undefined) return 'duplicate';
      await this.put({ ...c, successorAgreementId: change.agreementId, updatedAt: this.d.clock(), recentEventIds: this.remember(c, event) });
      return 'applied';
    });
  }

  private async applyLegacy(event: LifecycleEvent, change: Extract<LifecycleChange, { customerIdentifier: string }>): Promise<ApplyOutcome> {
    const product = this.d.products.get(change.productCode);
    if (product === undefined || product.identity !== 'legacy') {
      this.d.logger.warn({ productCode: change.productCode, event: event.type }, 'notification for a product this app does not meter; ignored');
      return 'ignored';
    }
    const identity: CustomerIdentity = { kind: 'legacy', productCode: change.productCode, customerIdentifier: change.customerIdentifier };
    const store = await this.d.store();
    const existing = await store.getCustomer(customerKey(identity));
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
        return existing === undefined ? 'ignored' : this.save(event, current, {}, 'updated');
    }
  }

  /** Opens the final-usage window (on the earlier of Agreement Ended and License Deprovisioned) and flushes. */
  private async startFinalUsage(event: LifecycleEvent, customer: CustomerRecord, fields: Partial<CustomerRecord>): Promise<ApplyOutcome> {
    if (customer.status === 'inactive' && customer.lastEventAt !== undefined && customer.lastEventAt >= event.time) return 'stale';
    const deadline = Math.min(customer.finalUsageDeadline ?? Number.POSITIVE_INFINITY, event.time + this.d.finalUsageMs);
    const outcome = await this.save(event, customer, { ...fields, status: 'deprovisioning', finalUsageDeadline: deadline }, 'deprovisioning');
    if (outcome === 'applied') this.d.finalFlush([customer.key]);
    return outcome;
  }

  private async applyToAgreement(event: LifecycleEvent, agreementId: string, fn: (c: CustomerRecord) => Promise<ApplyOutcome>): Promise<ApplyOutcome> {
    const customers = (await (await this.d.store()).listCustomers()).filter((c) => c.agreementId === agreementId);
    if (customers.length === 0) return 'ignored';
    const outcomes = await Promise.all(customers.map(fn));
    return outcomes.includes('applied') ? 'applied' : outcomes[0]!;
  }

  private async save(
    event: LifecycleEvent,
    customer: CustomerRecord,
    fields: Partial<CustomerRecord> & { status?: CustomerStatus },
    change: SubscriptionChange,
    previous?: CustomerRecord,
  ): Promise<ApplyOutcome> {
    const skip = this.skip(event, customer.registeredAt === 0 ? undefined : customer);
    if (skip !== undefined) return skip;
    const now = this.d.clock();
    const updated: CustomerRecord = {
      ...customer,
      ...fields,
      registeredAt: customer.registeredAt === 0 ? now : customer.registeredAt,
      updatedAt: now,
      lastEventAt: Math.max(customer.lastEventAt ?? 0, event.time),
      recentEventIds: this.remember(customer, event),
    };
    await this.put(updated);
    this.emit(change, updated, event.type, event.id, previous);
    return 'applied';
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

  private async put(customer: CustomerRecord): Promise<void> {
    await (await this.d.store()).putCustomer(customer);
    this.d.forget();
  }

  private emit(change: SubscriptionChange, customer: CustomerRecord, eventType: string, eventId: string, previous?: CustomerRecord): void {
    this.d.logger.info({ customer: mask(customer.key), change, event: eventType }, 'subscription changed');
    this.d.events.emit('subscription', { change, customer, eventType, eventId, ...(previous === undefined ? {} : { previous }) });
  }
}
