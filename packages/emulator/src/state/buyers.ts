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

export class Buyers {
  private readonly all: Buyer[] = [];
  private seq = 0;

  add(b: Omit<Buyer, 'ref'>): Buyer {
    const buyer: Buyer = { ...b, ref: `b${++this.seq}` };
    this.all.push(buyer);
    return buyer;
  }

  byRef(ref: string): Buyer | undefined {
    return this.all.find((b) => b.ref === ref);
  }
  byLicense(arn: string): Buyer | undefined {
    return this.all.find((b) => b.licenseArn === arn);
  }
  byCustomerIdentifier(productCode: string | undefined, id: string): Buyer | undefined {
    const list = this.all.filter((b) => b.customerIdentifier === id && (productCode === undefined || b.productCode === productCode));
    return list.find((b) => b.status === 'active') ?? list[list.length - 1];
  }
  /** Legacy account-id mode: the newest agreement of that account for that product. */
  byAccount(productCode: string, accountId: string): Buyer | undefined {
    const list = this.all.filter((b) => b.productCode === productCode && b.accountId === accountId && b.identity === 'legacy');
    return list.find((b) => b.status === 'active') ?? list[list.length - 1];
  }
  /** License ARN, customer identifier, or any agreement id (current or earlier) of the buyer. */
  find(id: string): Buyer | undefined {
    return this.all.find((b) => b.licenseArn === id || b.customerIdentifier === id || b.agreementIds.includes(id) || b.ref === id);
  }
  list(): BuyerView[] {
    return this.all.map(({ ref: _ref, offerId: _offer, finalNotified: _f, ...view }) => ({ ...view, agreementIds: [...view.agreementIds] }));
  }
  raw(): Buyer[] {
    return this.all;
  }
}
