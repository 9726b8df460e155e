/** Buyers: accounts, agreements, licenses (license mode) or customer identifiers (legacy mode). */
import { randomBytes } from 'node:crypto';
import type { BuyerView } from '../types';

export interface Buyer {
  ref: string;
  productCode: string;
  identity: 'license' | 'legacy';
  accountId: string;
  agreementId: string;
  agreementIds: string[];
  offerId: string;
  licenseArn?: string;
  customerIdentifier?: string;
  status: 'active' | 'deprovisioned' | 'failed';
  createdAt: number;
  deprovisionedAt?: number;
  offerType?: 'free-trial';
  /** SNS unsubscribe-success already sent (legacy). */
  finalNotified?: boolean;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomAlnum(n: number): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[b[i] % ALNUM.length];
  return s;
}
export function randomDigits(n: number): string {
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += String(b[i] % 10);
  return s === '0'.repeat(n) ? `1${s.slice(1)}` : s;
}
export const newAgreementId = () => `agmt-${randomAlnum(25).toLowerCase()}`;
export const newOfferId = () => `offer-${randomAlnum(13).toLowerCase()}`;
export const newLicenseArn = () => `arn:aws:license-manager::${randomDigits(12)}:license:l-${randomBytes(16).toString('hex')}`;
export const newCustomerIdentifier = () => randomAlnum(11);

/** Appends `b` to the list under `key`. */
function push<K>(map: Map<K, Buyer[]>, key: K, b: Buyer): void {
  const list = map.get(key);
  if (list) list.push(b);
  else map.set(key, [b]);
}

/** The active buyer of a list, else the newest. */
function current(list: readonly Buyer[] | undefined): Buyer | undefined {
  if (!list) return undefined;
  return list.find((b) => b.status === 'active') ?? list[list.length - 1];
}

/**
 * Every buyer, indexed by each way a call or an admin command names one, so a lookup costs the same with
 * ten buyers or ten thousand. Fields that are indexed (agreements, status) change through this class.
 */
export class Buyers {
  private readonly all: Buyer[] = [];
  private seq = 0;
  private readonly refs = new Map<string, Buyer>();
  private readonly licenses = new Map<string, Buyer>();
  private readonly agreements = new Map<string, Buyer>();
  /** Customer identifier → buyers (a resubscription keeps the identifier), oldest first. */
  private readonly identifiers = new Map<string, Buyer[]>();
  /** Product and customer identifier → buyers. */
  private readonly productIdentifiers = new Map<string, Buyer[]>();
  /** Product and account → legacy buyers, oldest first. */
  private readonly legacyAccounts = new Map<string, Buyer[]>();
  /** Legacy buyers deprovisioned whose unsubscribe-success is still to be sent. */
  private readonly awaitingFinal = new Set<Buyer>();

  add(b: Omit<Buyer, 'ref'>): Buyer {
    const buyer: Buyer = { ...b, agreementIds: [...b.agreementIds], ref: `b${++this.seq}` };
    this.all.push(buyer);
    this.refs.set(buyer.ref, buyer);
    if (buyer.licenseArn !== undefined) this.licenses.set(buyer.licenseArn, buyer);
    for (const id of buyer.agreementIds) this.agreements.set(id, buyer);
    if (buyer.customerIdentifier !== undefined) {
      push(this.identifiers, buyer.customerIdentifier, buyer);
      push(this.productIdentifiers, productKey(buyer.productCode, buyer.customerIdentifier), buyer);
    }
    if (buyer.identity === 'legacy') push(this.legacyAccounts, productKey(buyer.productCode, buyer.accountId), buyer);
    return buyer;
  }

  /** A new agreement (renewal, replacement) becomes the buyer's current one; earlier ids still find it. */
  addAgreement(b: Buyer, agreementId: string): void {
    b.agreementId = agreementId;
    b.agreementIds.push(agreementId);
    this.agreements.set(agreementId, b);
  }

  deprovision(b: Buyer, at: number): void {
    b.status = 'deprovisioned';
    b.deprovisionedAt = at;
    if (b.identity === 'legacy' && !b.finalNotified) this.awaitingFinal.add(b);
  }

  /** Legacy buyers whose unsubscribe-success is still to be sent. */
  awaitingFinalNotice(): Buyer[] {
    return [...this.awaitingFinal];
  }

  markFinalNotified(b: Buyer): void {
    b.finalNotified = true;
    this.awaitingFinal.delete(b);
  }

  byRef(ref: string): Buyer | undefined {
    return this.refs.get(ref);
  }
  byLicense(arn: string): Buyer | undefined {
    return this.licenses.get(arn);
  }
  byCustomerIdentifier(productCode: string | undefined, id: string): Buyer | undefined {
    return current(productCode === undefined ? this.identifiers.get(id) : this.productIdentifiers.get(productKey(productCode, id)));
  }
  /** Legacy account-id mode: the newest agreement of that account for that product. */
  byAccount(productCode: string, accountId: string): Buyer | undefined {
    return current(this.legacyAccounts.get(productKey(productCode, accountId)));
  }
  /** Every legacy buyer of an account for a product, oldest first. */
  legacyOf(productCode: string, accountId: string): readonly Buyer[] {
    return this.legacyAccounts.get(productKey(productCode, accountId)) ?? [];
  }
  /** License ARN, customer identifier, or any agreement id (current or earlier) of the buyer. */
  find(id: string): Buyer | undefined {
    return this.licenses.get(id) ?? this.byCustomerIdentifier(undefined, id) ?? this.agreements.get(id) ?? this.refs.get(id);
  }
  list(): BuyerView[] {
    return this.all.map(({ ref: _ref, offerId: _offer, finalNotified: _f, ...view }) => ({ ...view, agreementIds: [...view.agreementIds] }));
  }
}

function productKey(productCode: string, id: string): string {
  return `${productCode}\u0000${id}`;
}
