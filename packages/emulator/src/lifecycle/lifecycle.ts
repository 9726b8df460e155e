/** Buyers' lifecycle: subscribe, amend, renew, replace, cancel, each delivered as AWS delivers it. */
import { httpPost } from '../http/client';
import { newAgreementId, newCustomerIdentifier, newLicenseArn, newOfferId, randomDigits, type Buyer } from '../state/buyers';
import type { EmulatorState } from '../state/emulator-state';
import type { EventsTarget, Subscription, SubscribeOptions } from '../types';
import { deliver, type DeliveryTarget } from './event-delivery';
import {
  agreementAmended,
  agreementCreated,
  agreementEnded,
  licenseDeprovisioned,
  licenseUpdated,
  type MarketplaceEvent,
} from './eventbridge-events';
import { buildSnsNotification, MARKETPLACE_TOPIC_ACCOUNT, type SnsAction } from './sns-notifications';

export interface LifecycleOptions {
  sellerAccountId: string;
  events?: EventsTarget;
  sns?: { url: string; topicAccountId?: string };
  endpoint: () => string;
  log: (line: string) => void;
}

export class Lifecycle {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly eventsTarget?: DeliveryTarget;
  private readonly snsTarget?: DeliveryTarget;

  constructor(
    private readonly state: EmulatorState,
    private readonly opts: LifecycleOptions,
  ) {
    if (opts.events) {
      const e = opts.events;
      this.eventsTarget = {
        url: e.url,
        headers: { 'content-type': 'application/json; charset=utf-8', ...(e.headerValue !== undefined ? { [e.headerName ?? 'x-api-key']: e.headerValue } : {}) },
        retries: e.retries ?? 3,
        retryDelayMs: e.retryDelayMs ?? 50,
        timeoutMs: e.timeoutMs ?? 5000,
      };
    }
    if (opts.sns) this.snsTarget = { url: opts.sns.url, headers: {}, retries: 3, retryDelayMs: 50, timeoutMs: 15000 };
  }

  private now(): number {
    return this.state.clock.now();
  }

  private async emit(events: MarketplaceEvent[]): Promise<void> {
    for (const ev of events) {
      this.opts.log(`event ${ev['detail-type']} ${ev.id}`);
      if (!this.eventsTarget) continue;
      const row = await deliver(this.eventsTarget, ev.id, ev['detail-type'], ev, JSON.stringify(ev));
      this.state.ledger.eventRows.push(row);
    }
  }

  private async notify(action: SnsAction, b: Buyer): Promise<void> {
    this.opts.log(`sns ${action} ${b.customerIdentifier}`);
    if (!this.snsTarget) return;
    const n = buildSnsNotification(action, b, this.opts.sns?.topicAccountId ?? MARKETPLACE_TOPIC_ACCOUNT, this.opts.endpoint(), this.now());
    const target: DeliveryTarget = {
      ...this.snsTarget,
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type': 'Notification',
        'x-amz-sns-message-id': n.MessageId,
        'x-amz-sns-topic-arn': n.TopicArn,
      },
    };
    const row = await deliver(target, n.MessageId, `SNS ${action}`, n, JSON.stringify(n));
    this.state.ledger.eventRows.push(row);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  /** Waits for deliveries started in the background (SNS unsubscribe-success). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  issueToken(id: string): string {
    const b = this.state.buyers.find(id);
    if (!b) throw new Error(`Unknown license, customer identifier or agreement: ${id}`);
    return this.state.tokens.issue(b.ref, this.now());
  }

  private view(b: Buyer, token: string): Subscription {
    return {
      productCode: b.productCode,
      accountId: b.accountId,
      agreementId: b.agreementId,
      ...(b.licenseArn ? { licenseArn: b.licenseArn } : {}),
      ...(b.customerIdentifier ? { customerIdentifier: b.customerIdentifier } : {}),
      token,
    };
  }

  private agreementPair(b: Buyer, intent: 'NEW' | 'RENEW' | 'REPLACE', previous?: string): MarketplaceEvent[] {
    const s = this.opts.sellerAccountId;
    return [agreementCreated(b, 'Proposer', s, this.now(), intent, previous), agreementCreated(b, 'Manufacturer', s, this.now(), intent, previous)];
  }

  async subscribe(o: SubscribeOptions): Promise<Subscription> {
    const product = this.state.products.get(o.productCode);
    if (!product) throw new Error(`Unknown product ${o.productCode}: add it first`);
    if (o.accountId !== undefined && !/^[0-9]{12}$/.test(o.accountId)) throw new Error(`accountId must be 12 digits, got ${o.accountId}`);
    const agreementId = newAgreementId();
    const b = this.state.buyers.add({
      productCode: product.productCode,
      identity: product.identity,
      accountId: o.accountId ?? randomDigits(12),
      agreementId,
      agreementIds: [agreementId],
      offerId: newOfferId(),
      ...(product.identity === 'license' ? { licenseArn: newLicenseArn() } : { customerIdentifier: this.customerIdFor(product.productCode, o.accountId) }),
      status: o.fail && product.identity === 'legacy' ? 'failed' : 'active',
      createdAt: this.now(),
      ...(o.offerType ? { offerType: o.offerType } : {}),
    });
    const token = this.state.tokens.issue(b.ref, this.now());
    if (b.status === 'failed') {
      await this.notify('subscribe-fail', b);
    } else {
      await this.emit(this.agreementPair(b, 'NEW'));
      if (b.identity === 'license') await this.emit([licenseUpdated(b, this.opts.sellerAccountId, this.now())]);
      else await this.notify('subscribe-success', b);
    }
    const sub = this.view(b, token);
    if (o.registrationUrl) sub.registration = await this.register(o.registrationUrl, token, o.offerType);
    return sub;
  }

  /** Legacy: one customer identifier per account and product (a resubscription keeps it). */
  private customerIdFor(productCode: string, accountId: string | undefined): string {
    if (accountId) {
      const prior = this.state.buyers.legacyOf(productCode, accountId).find((x) => x.customerIdentifier);
      if (prior?.customerIdentifier && prior.status !== 'active') return prior.customerIdentifier;
    }
    return newCustomerIdentifier();
  }

  /** The buyer's browser POSTs the token to the fulfillment URL (form-encoded); redirects are not followed. */
  async register(url: string, token: string, offerType?: 'free-trial'): Promise<{ status: number; location?: string; body: string }> {
    const form = new URLSearchParams({ 'x-amzn-marketplace-token': token });
    if (offerType) form.set('x-amzn-marketplace-offer-type', offerType);
    const res = await httpPost(url, { 'content-type': 'application/x-www-form-urlencoded' }, form.toString(), 30_000);
    const loc = res.headers.location;
    return { status: res.status, ...(typeof loc === 'string' ? { location: loc } : {}), body: res.body };
  }

  private mustFind(id: string): Buyer {
    const b = this.state.buyers.find(id);
    if (!b) throw new Error(`Unknown license, customer identifier or agreement: ${id}`);
    return b;
  }

  async cancel(id: string): Promise<void> {
    const b = this.mustFind(id);
    if (b.status !== 'active') return;
    this.state.buyers.deprovision(b, this.now());
    const s = this.opts.sellerAccountId;
    await this.emit([agreementEnded(b, b.agreementId, 'Proposer', s, this.now(), 'CANCELLED'), agreementEnded(b, b.agreementId, 'Manufacturer', s, this.now(), 'CANCELLED')]);
    if (b.identity === 'license') await this.emit([licenseDeprovisioned(b, s, this.now())]);
    else await this.notify('unsubscribe-pending', b);
  }

  async amend(id: string): Promise<void> {
    const b = this.mustFind(id);
    const s = this.opts.sellerAccountId;
    await this.emit([agreementAmended(b, 'Proposer', s, this.now()), agreementAmended(b, 'Manufacturer', s, this.now())]);
    if (b.identity === 'license' && b.status === 'active') await this.emit([licenseUpdated(b, s, this.now())]);
  }

  /** Renewal: a new agreement (intent RENEW, previousAgreementId), the same license. */
  async renew(id: string): Promise<Subscription> {
    const b = this.mustFind(id);
    if (b.status !== 'active') throw new Error(`Cannot renew ${id}: it is ${b.status}`);
    const previous = b.agreementId;
    this.state.buyers.addAgreement(b, newAgreementId());
    await this.emit(this.agreementPair(b, 'RENEW', previous));
    if (b.identity === 'license') await this.emit([licenseUpdated(b, this.opts.sellerAccountId, this.now())]);
    return this.view(b, this.state.tokens.issue(b.ref, this.now()));
  }

  /**
   * Replacement (e.g. a new private offer): a new agreement (intent REPLACE) with a new license; the old
   * agreement ends REPLACED and the old license is deprovisioned (its final-usage window applies).
   * Legacy products keep their customer identifier and only get the new agreement.
   */
  async replace(id: string): Promise<Subscription> {
    const old = this.mustFind(id);
    if (old.status !== 'active') throw new Error(`Cannot replace ${id}: it is ${old.status}`);
    const s = this.opts.sellerAccountId;
    if (old.identity === 'legacy') {
      const previous = old.agreementId;
      this.state.buyers.addAgreement(old, newAgreementId());
      await this.emit(this.agreementPair(old, 'REPLACE', previous));
      return this.view(old, this.state.tokens.issue(old.ref, this.now()));
    }
    const agreementId = newAgreementId();
    const b = this.state.buyers.add({
      productCode: old.productCode,
      identity: old.identity,
      accountId: old.accountId,
      agreementId,
      agreementIds: [agreementId],
      offerId: newOfferId(),
      licenseArn: newLicenseArn(),
      status: 'active',
      createdAt: this.now(),
    });
    await this.emit(this.agreementPair(b, 'REPLACE', old.agreementId));
    await this.emit([licenseUpdated(b, s, this.now())]);
    this.state.buyers.deprovision(old, this.now());
    await this.emit([
      agreementEnded(old, old.agreementId, 'Proposer', s, this.now(), 'REPLACED'),
      agreementEnded(old, old.agreementId, 'Manufacturer', s, this.now(), 'REPLACED'),
      licenseDeprovisioned(old, s, this.now()),
    ]);
    return this.view(b, this.state.tokens.issue(b.ref, this.now()));
  }

  /** Time-driven steps: SNS unsubscribe-success once a legacy customer's final-usage window has passed. */
  sweep(): void {
    const now = this.now();
    for (const b of this.state.buyers.awaitingFinalNotice()) {
      if (now < (b.deprovisionedAt as number) + this.state.finalUsageWindowMs) continue;
      this.state.buyers.markFinalNotified(b);
      this.track(this.notify('unsubscribe-success', b)).catch((e: Error) => this.opts.log(`sns delivery failed: ${e.message}`));
    }
  }
}
