/**
 * Buyers' lifecycle: subscribe, amend, renew, replace, cancel, expire, each delivered as AWS delivers it; contracts
 * and agreements change with them.
 */
import { addMonths, amendedDimensions, contractTerms, renewedDimensions, type ContractTerms } from '../contracts/contract-terms';
import type { AgreementRecord } from '../contracts/agreements';
import type { Contract } from '../contracts/contracts';
import { httpPost } from '../http/client';
import { newAgreementId, newCustomerIdentifier, newLicenseArn, newOfferId, randomDigits, type Buyer } from '../state/buyers';
import type { EmulatorState } from '../state/emulator-state';
import type { AmendOptions, EmulatorProduct, EventsTarget, RenewOptions, Subscription, SubscribeOptions } from '../types';
import { deliver, type DeliveryTarget } from './event-delivery';
import {
  agreementAmended,
  agreementCreated,
  agreementEnded,
  licenseDeprovisioned,
  licenseUpdated,
  YEAR_MS,
  type MarketplaceEvent,
  type Term,
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
  private timeDriven: Promise<void> = Promise.resolve();
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
    const contract = this.state.contracts.of(b);
    return {
      productCode: b.productCode,
      accountId: b.accountId,
      agreementId: b.agreementId,
      ...(b.licenseArn ? { licenseArn: b.licenseArn } : {}),
      ...(b.customerIdentifier ? { customerIdentifier: b.customerIdentifier } : {}),
      token,
      ...(contract ? { contract: this.state.contracts.view(contract) } : {}),
    };
  }

  private agreementPair(b: Buyer, intent: 'NEW' | 'RENEW' | 'REPLACE', previous?: string): MarketplaceEvent[] {
    const s = this.opts.sellerAccountId;
    const term = this.term(b.agreementId);
    return [agreementCreated(b, 'Proposer', s, this.now(), intent, previous, term), agreementCreated(b, 'Manufacturer', s, this.now(), intent, previous, term)];
  }

  private term(agreementId: string): Term | undefined {
    const r = this.state.agreements.get(agreementId);
    return r ? { startTime: r.startTime, endTime: r.endTime } : undefined;
  }

  /** Records a new agreement of `b` (its current one), with the contract's term and values when it has one. */
  private recordAgreement(b: Buyer, intent: AgreementRecord['intent'], contract: Contract | undefined, previousAgreementId?: string): void {
    const now = this.now();
    const previous = previousAgreementId === undefined ? undefined : this.state.agreements.get(previousAgreementId);
    this.state.agreements.add({
      agreementId: b.agreementId,
      buyer: b,
      intent,
      status: 'ACTIVE',
      acceptanceTime: now,
      startTime: contract ? contract.startsAt : now,
      endTime: contract ? contract.expiresAt : now + YEAR_MS,
      lastUpdateTime: now,
      ...(previousAgreementId !== undefined ? { previousAgreementId } : {}),
      initialAgreementId: intent === 'RENEW' && previous ? previous.initialAgreementId : b.agreementId,
      offerId: b.offerId,
      ...(contract ? { contract: { dimensions: { ...contract.dimensions }, durationMonths: contract.durationMonths, autoRenew: contract.autoRenew } } : {}),
    });
  }

  /** Contract products need a contract, subscription products refuse one. */
  private termsFor(o: SubscribeOptions): ContractTerms | undefined {
    const product = this.state.products.get(o.productCode) as Required<EmulatorProduct>;
    if (product.pricing === 'subscription') {
      if (o.contract !== undefined) throw new Error(`Product ${product.productCode} is priced by subscription: subscribe without a contract`);
      return undefined;
    }
    if (o.contract === undefined) throw new Error(`Product ${product.productCode} is priced by ${product.pricing}: subscribe with a contract ({ dimensions })`);
    return contractTerms(product, o.contract);
  }

  private lagMs(): number {
    return this.state.entitlementSettings.lagMs;
  }

  async subscribe(o: SubscribeOptions): Promise<Subscription> {
    const product = this.state.products.get(o.productCode);
    if (!product) throw new Error(`Unknown product ${o.productCode}: add it first`);
    if (o.accountId !== undefined && !/^[0-9]{12}$/.test(o.accountId)) throw new Error(`accountId must be 12 digits, got ${o.accountId}`);
    const terms = this.termsFor(o);
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
    const contract = terms && b.status !== 'failed' ? this.state.contracts.create(b, terms, this.now(), this.lagMs()) : undefined;
    if (b.status !== 'failed') this.recordAgreement(b, 'NEW', contract);
    if (b.status === 'failed') {
      await this.notify('subscribe-fail', b);
    } else {
      await this.emit(this.agreementPair(b, 'NEW'));
      if (b.identity === 'license') await this.emit([licenseUpdated(b, this.opts.sellerAccountId, this.now())]);
      else await this.notify('subscribe-success', b);
      if (contract) await this.entitlementUpdated(b);
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

  /** Legacy contract products: SNS entitlement-updated on the entitlement topic (license products have EventBridge only). */
  private async entitlementUpdated(b: Buyer): Promise<void> {
    if (b.identity === 'legacy' && this.state.contracts.of(b)) await this.notify('entitlement-updated', b);
  }

  /** Ends the buyer's contract, if any, as GetEntitlements will show it (after the lag): nothing for it. */
  private endContract(b: Buyer, status: 'cancelled' | 'expired' | 'replaced', at: number): void {
    const c = this.state.contracts.of(b);
    if (!c || c.status !== 'active') return;
    c.status = status;
    this.state.contracts.changed(c, at, this.lagMs());
  }

  async cancel(id: string): Promise<void> {
    const b = this.mustFind(id);
    if (b.status !== 'active') return;
    this.state.buyers.deprovision(b, this.now());
    this.endContract(b, 'cancelled', this.now());
    this.state.agreements.end(b.agreementId, 'CANCELLED', this.now());
    const s = this.opts.sellerAccountId;
    await this.emit([agreementEnded(b, b.agreementId, 'Proposer', s, this.now(), 'CANCELLED'), agreementEnded(b, b.agreementId, 'Manufacturer', s, this.now(), 'CANCELLED')]);
    if (b.identity === 'license') await this.emit([licenseDeprovisioned(b, s, this.now())]);
    else await this.notify('unsubscribe-pending', b);
    await this.entitlementUpdated(b);
  }

  /**
   * Contracts: the term ends without renewal at `at` (default now): Purchase Agreement Ended (EXPIRED) and License
   * Deprovisioned (legacy: SNS unsubscribe-pending and entitlement-updated); the final-usage window starts at `at`.
   */
  async expire(id: string): Promise<void> {
    const b = this.mustFind(id);
    const c = this.state.contracts.of(b);
    if (!c) throw new Error(`Cannot expire ${id}: it has no contract (only contracts expire)`);
    const events = this.expireNow(b, c, this.now());
    if (events) await this.deliverExpiry(b, events);
  }

  /** The state change of an expiry at `at`, and its events (built now); undefined if the contract has already ended. */
  private expireNow(b: Buyer, c: Contract, at: number): MarketplaceEvent[] | undefined {
    if (b.status !== 'active' || c.status !== 'active') return undefined;
    this.state.buyers.deprovision(b, at);
    this.endContract(b, 'expired', at);
    this.state.agreements.end(b.agreementId, 'EXPIRED', at);
    const s = this.opts.sellerAccountId;
    return [
      agreementEnded(b, b.agreementId, 'Proposer', s, this.now(), 'EXPIRED'),
      agreementEnded(b, b.agreementId, 'Manufacturer', s, this.now(), 'EXPIRED'),
      ...(b.identity === 'license' ? [licenseDeprovisioned(b, s, this.now())] : []),
    ];
  }

  private async deliverExpiry(b: Buyer, events: MarketplaceEvent[]): Promise<void> {
    await this.emit(events);
    if (b.identity === 'legacy') await this.notify('unsubscribe-pending', b);
    await this.entitlementUpdated(b);
  }

  /** Deliveries of time-driven steps, one after another in the order the steps happened. */
  private enqueue(deliver: () => Promise<void>): void {
    this.timeDriven = this.timeDriven.then(deliver).catch((e: Error) => this.opts.log(`delivery failed: ${e.message}`));
    this.track(this.timeDriven);
  }

  /**
   * Without dimensions: the amendment events only. With dimensions (contracts): the values go up (never down) in the
   * same agreement, then Purchase Agreement Amended, License Updated and, for legacy products, SNS entitlement-updated.
   */
  async amend(id: string, o: AmendOptions = {}): Promise<void> {
    const b = this.mustFind(id);
    const s = this.opts.sellerAccountId;
    const c = this.state.contracts.of(b);
    if (o.dimensions !== undefined) {
      if (!c) throw new Error(`Cannot amend the dimensions of ${id}: it has no contract`);
      if (c.status !== 'active' || b.status !== 'active') throw new Error(`Cannot amend ${id}: its contract is ${c.status}`);
      const product = this.state.products.get(b.productCode) as Required<EmulatorProduct>;
      c.dimensions = amendedDimensions(product, c.dimensions, o.dimensions);
      this.state.contracts.changed(c, this.now(), this.lagMs());
      const r = this.state.agreements.get(b.agreementId);
      if (r?.contract) {
        r.contract.dimensions = { ...c.dimensions };
        r.lastUpdateTime = this.now();
      }
    }
    const term = c ? { startTime: c.startsAt, endTime: c.expiresAt, autoRenew: c.autoRenew } : undefined;
    await this.emit([agreementAmended(b, 'Proposer', s, this.now(), term), agreementAmended(b, 'Manufacturer', s, this.now(), term)]);
    if (b.identity === 'license' && b.status === 'active') await this.emit([licenseUpdated(b, s, this.now())]);
    if (o.dimensions !== undefined) await this.entitlementUpdated(b);
  }

  /**
   * Renewal: a new agreement (intent RENEW, previousAgreementId), the same license; the previous agreement ends RENEWED.
   * A contract starts its next term where the current one ends, with the same values unless new ones are given.
   */
  async renew(id: string, o: RenewOptions = {}): Promise<Subscription> {
    const b = this.mustFind(id);
    if (b.status !== 'active') throw new Error(`Cannot renew ${id}: it is ${b.status}`);
    const c = this.state.contracts.of(b);
    if (o.dimensions !== undefined && !c) throw new Error(`Cannot renew ${id} with dimensions: it has no contract`);
    this.renewNow(b, c, o);
    await this.emitRenewal(b, c);
    return this.view(b, this.state.tokens.issue(b.ref, this.now()));
  }

  /** The state change of a renewal (synchronous, so a sweep never renews the same term twice). */
  private renewNow(b: Buyer, c: Contract | undefined, o: RenewOptions): string {
    const previous = b.agreementId;
    if (c) {
      if (o.dimensions !== undefined) {
        const product = this.state.products.get(b.productCode) as Required<EmulatorProduct>;
        c.dimensions = renewedDimensions(product, o.dimensions);
      }
      c.startsAt = c.expiresAt;
      c.expiresAt = addMonths(c.startsAt, c.durationMonths);
      this.state.contracts.changed(c, this.now(), this.lagMs());
    }
    this.state.agreements.end(previous, 'RENEWED', this.now());
    this.state.buyers.addAgreement(b, newAgreementId());
    this.recordAgreement(b, 'RENEW', c, previous);
    return previous;
  }

  /** The events of the renewal just made, built now (a sweep may renew again before they are delivered). */
  private renewalEvents(b: Buyer): MarketplaceEvent[] {
    const r = this.state.agreements.get(b.agreementId);
    return [...this.agreementPair(b, 'RENEW', r?.previousAgreementId), ...(b.identity === 'license' ? [licenseUpdated(b, this.opts.sellerAccountId, this.now())] : [])];
  }

  private async emitRenewal(b: Buyer, c: Contract | undefined, events = this.renewalEvents(b)): Promise<void> {
    await this.emit(events);
    if (c) await this.entitlementUpdated(b);
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
    const oldContract = this.state.contracts.of(old);
    if (old.identity === 'legacy') {
      const previous = old.agreementId;
      if (oldContract) {
        oldContract.startsAt = this.now();
        oldContract.expiresAt = addMonths(this.now(), oldContract.durationMonths);
        this.state.contracts.changed(oldContract, this.now(), this.lagMs());
      }
      this.state.agreements.end(previous, 'REPLACED', this.now());
      this.state.buyers.addAgreement(old, newAgreementId());
      this.recordAgreement(old, 'REPLACE', oldContract, previous);
      await this.emit(this.agreementPair(old, 'REPLACE', previous));
      await this.entitlementUpdated(old);
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
    const contract = oldContract
      ? this.state.contracts.create(b, { dimensions: oldContract.dimensions, durationMonths: oldContract.durationMonths, autoRenew: oldContract.autoRenew }, this.now(), this.lagMs())
      : undefined;
    this.recordAgreement(b, 'REPLACE', contract, old.agreementId);
    this.endContract(old, 'replaced', this.now());
    this.state.agreements.end(old.agreementId, 'REPLACED', this.now());
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

  /**
   * Time-driven steps: a contract whose term has ended renews (autoRenew, once per term passed) or expires at its end;
   * SNS unsubscribe-success once a legacy customer's final-usage window has passed.
   */
  sweep(): void {
    const now = this.now();
    for (const c of this.state.contracts.active()) {
      if (c.expiresAt > now || c.buyer.status !== 'active') continue;
      const b = c.buyer;
      if (!c.autoRenew) {
        const events = this.expireNow(b, c, c.expiresAt);
        if (events) this.enqueue(() => this.deliverExpiry(b, events));
        continue;
      }
      for (let terms = 0; c.expiresAt <= now && terms < 120; terms++) {
        this.renewNow(b, c, {});
        const events = this.renewalEvents(b);
        this.enqueue(() => this.emitRenewal(b, c, events));
      }
    }
    for (const b of this.state.buyers.awaitingFinalNotice()) {
      if (now < (b.deprovisionedAt as number) + this.state.finalUsageWindowMs) continue;
      this.state.buyers.markFinalNotified(b);
      this.track(this.notify('unsubscribe-success', b)).catch((e: Error) => this.opts.log(`sns delivery failed: ${e.message}`));
    }
  }
}
