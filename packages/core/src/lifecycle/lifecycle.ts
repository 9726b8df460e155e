import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { mask } from '../logger';
import { customerKey, type CustomerIdentity, type CustomerRecord, type CustomerStatus } from '../model/customer';
import type { Product } from '../model/product';
import { customerPages, findFirstCustomer, licenseIdOf } from '../store/customer-pages';
import type { UsageStore } from '../store/usage-store';
import { assertNotFuture } from './event-time';
import { isNewestEvent, isNewestStatusEvent, sameWindow, statusEventAt, windowAfter, withWindow, type StatusEffect } from './event-order';
import type { LifecycleChange, LifecycleEvent } from './marketplace-event';
import type { SubscriptionChange } from './subscription-event';
import { updateCustomer, type CustomerDecision } from './update-customer';

export type { SubscriptionChange, SubscriptionEvent } from './subscription-event';

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

/**
 * Applies AWS Marketplace lifecycle events to the customer registry, idempotently, ending as if they had arrived in
 * event-time order: a redelivered event changes nothing; a status event older than the newest status event applied
 * changes no status, but still takes its part in the final-usage window (see event-order); an event that changes no
 * status never makes an older status event stale.
 * Every change is a conditional write over the state it was decided on (see updateCustomer), so concurrent
 * events, on one instance or several sharing a store, end as if applied one by one in event-time order.
 */
export class Lifecycle {
  /** @internal The engine creates the lifecycle; apply events through `Metering`. */
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
        return this.applyToAgreement(change.agreementId, (c) => this.applyNeutral(event, c, {}, 'updated'));
      case 'agreement-ended':
        return this.applyToAgreement(change.agreementId, (c) =>
          SUPERSEDED.has(change.status.toUpperCase())
            ? this.applyNeutral(event, c, { agreementStatus: change.status }, 'ended')
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
    for await (const page of customerPages(store, { status: 'deprovisioning' })) {
      for (const listed of page) {
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

      const notNewest = this.olderStatusEvent(event, current, 'activate');
      if (notNewest !== undefined) return notNewest;
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
      return this.changeStatus(event, current, 'activate', { ...agreement, ...tenant, status: 'active', agreementStatus: 'ACTIVE' }, kind, predecessor);
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
      if (c.recentEventIds?.includes(event.id)) return { result: 'duplicate' };
      if (!isNewestEvent(c, event.time)) return this.stale(event, c);
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
          return this.applyStatus(event, current, 'activate', { status: 'active' }, existing === undefined || existing.status !== 'active' ? 'activated' : 'updated');
        case 'legacy-subscribe-fail':
          return this.applyStatus(event, current, 'end', { status: 'inactive' }, 'ended');
        case 'legacy-unsubscribe-pending':
          return this.startFinalUsage(event, current, {});
        case 'legacy-unsubscribe-success':
          return this.applyStatus(event, current, 'end', { status: 'inactive' }, 'ended');
        case 'legacy-entitlement-updated':
          return existing === undefined ? { result: 'ignored' } : this.applyNeutral(event, current, {}, 'updated');
      }
    });
  }

  /**
   * Opens the final-usage window and flushes. The deadline counts from the earliest opener since the latest
   * activation (the earlier of Agreement Ended and License Deprovisioned), whichever of them arrives first.
   */
  private startFinalUsage(event: LifecycleEvent, customer: CustomerRecord, fields: Partial<CustomerRecord>): CustomerDecision<ApplyOutcome> {
    const older = this.olderStatusEvent(event, customer, 'open-final-usage');
    if (older !== undefined) return older;
    const decision = this.changeStatus(event, customer, 'open-final-usage', { ...fields, status: 'deprovisioning' }, 'deprovisioning');
    return {
      ...decision,
      afterWrite: (written) => {
        decision.afterWrite?.(written);
        this.d.finalFlush([written.key]);
      },
    };
  }

  /** Applies `decide` to each customer of the agreement, each as a conditional write of its own, a page at a time. */
  private async applyToAgreement(agreementId: string, decide: (c: CustomerRecord) => CustomerDecision<ApplyOutcome>): Promise<ApplyOutcome> {
    const store = await this.d.store();
    const outcomes: ApplyOutcome[] = [];
    for await (const page of customerPages(store, { agreementId })) {
      outcomes.push(
        ...(await Promise.all(
          page.map((listed) =>
            updateCustomer(store, listed.key, (c): CustomerDecision<ApplyOutcome> => (c === undefined || c.agreementId !== agreementId ? { result: 'ignored' } : decide(c))),
          ),
        )),
      );
    }
    if (outcomes.length === 0) return 'ignored';
    return outcomes.includes('applied') ? 'applied' : outcomes[0]!;
  }

  /** A status event: applied in full if it is the customer's newest, else only its part in the final-usage window. */
  private applyStatus(
    event: LifecycleEvent,
    customer: CustomerRecord,
    effect: StatusEffect,
    fields: Partial<CustomerRecord> & { status: CustomerStatus },
    change: SubscriptionChange,
  ): CustomerDecision<ApplyOutcome> {
    return this.olderStatusEvent(event, customer, effect) ?? this.changeStatus(event, customer, effect, fields, change);
  }

  /**
   * What a status event that is not the customer's newest does: nothing if it was applied already or changes
   * nothing; else it writes its part in the final-usage window. Answers 'applied' when that moved a deprovisioning
   * customer's deadline (flushing again if earlier), 'stale' otherwise. Undefined for the newest status event.
   */
  private olderStatusEvent(event: LifecycleEvent, customer: CustomerRecord, effect: StatusEffect): CustomerDecision<ApplyOutcome> | undefined {
    if (customer.recentEventIds?.includes(event.id)) return { result: 'duplicate' };
    if (isNewestStatusEvent(customer, event.time, effect)) return undefined;
    const window = windowAfter(customer, event.time, effect, this.d.finalUsageMs);
    if (sameWindow(customer, window)) return this.stale(event, customer);
    const deadline = customer.status === 'deprovisioning' ? window.finalUsageDeadline : undefined;
    const moved = deadline !== undefined && deadline !== customer.finalUsageDeadline;
    const earlier = moved && deadline < (customer.finalUsageDeadline ?? Number.POSITIVE_INFINITY);
    this.d.logger.info({ customer: mask(customer.key), event: event.type, deadlineMoved: moved }, 'lifecycle event older than the status; final-usage window updated');
    return {
      result: moved ? 'applied' : 'stale',
      write: {
        ...withWindow(customer, window),
        updatedAt: this.d.clock(),
        lastStatusEventAt: statusEventAt(customer),
        ...(moved ? { recentEventIds: this.remember(customer, event) } : {}),
      },
      afterWrite: (written) => {
        this.d.forget();
        if (earlier) this.d.finalFlush([written.key]);
      },
    };
  }

  /** Applies the customer's newest status event: its status, its fields and its part in the final-usage window. */
  private changeStatus(
    event: LifecycleEvent,
    customer: CustomerRecord,
    effect: StatusEffect,
    fields: Partial<CustomerRecord> & { status: CustomerStatus },
    change: SubscriptionChange,
    previous?: CustomerRecord,
  ): CustomerDecision<ApplyOutcome> {
    const window = windowAfter(customer, event.time, effect, this.d.finalUsageMs);
    const lastStatusEventAt = Math.max(statusEventAt(customer), event.time);
    return this.save(event, withWindow(customer, window), { ...fields, lastStatusEventAt }, change, previous);
  }

  /** An event that changes no status: recorded unless an event newer than it was applied already. */
  private applyNeutral(event: LifecycleEvent, customer: CustomerRecord, fields: Partial<CustomerRecord>, change: SubscriptionChange): CustomerDecision<ApplyOutcome> {
    if (customer.recentEventIds?.includes(event.id)) return { result: 'duplicate' };
    if (!isNewestEvent(customer, event.time)) return this.stale(event, customer);
    return this.save(event, customer, fields, change);
  }

  /** The write that applies `event` to `customer`; the caller decided that it applies. */
  private save(event: LifecycleEvent, customer: CustomerRecord, fields: Partial<CustomerRecord>, change: SubscriptionChange, previous?: CustomerRecord): CustomerDecision<ApplyOutcome> {
    const now = this.d.clock();
    const updated: CustomerRecord = {
      ...customer,
      // Kept explicitly, so that a later event never takes lastEventAt for it.
      lastStatusEventAt: statusEventAt(customer),
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

  private stale(event: LifecycleEvent, customer: CustomerRecord): CustomerDecision<ApplyOutcome> {
    this.d.logger.info({ customer: mask(customer.key), event: event.type }, 'lifecycle event older than the state it would change; ignored');
    return { result: 'stale' };
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
    const licenseId = licenseIdOf(licenseArn);
    if (licenseId === undefined) return undefined;
    return findFirstCustomer(store, { licenseId });
  }

  private async predecessorOf(agreementId: string, key: string): Promise<CustomerRecord | undefined> {
    return findFirstCustomer(await this.d.store(), { successorAgreementId: agreementId }, (c) => c.key !== key || c.agreementId !== agreementId);
  }

  private emit(change: SubscriptionChange, customer: CustomerRecord, eventType: string, eventId: string, previous?: CustomerRecord): void {
    this.d.logger.info({ customer: mask(customer.key), change, event: eventType }, 'subscription changed');
    this.d.events.emit('subscription', { change, customer, eventType, eventId, ...(previous === undefined ? {} : { previous }) });
  }
}
