/**
 * Contracts per buyer and the history GetEntitlements reads: every change is kept as a version that becomes
 * visible `lagMs` after it happened, so a reader sees the newest version already visible at its time.
 */
import type { Buyer } from '../state/buyers';
import type { ContractDimensions, ContractView, EntitlementRow } from '../types';
import { addMonths, entitlementValue, type ContractTerms } from './contract-terms';

export interface ContractVersion {
  /** When GetEntitlements starts to reflect this version (ms epoch). */
  visibleAt: number;
  /** undefined: the contract has ended and GetEntitlements returns nothing for it. */
  dimensions?: ContractDimensions;
  expiresAt: number;
}

export interface Contract {
  buyer: Buyer;
  dimensions: ContractDimensions;
  durationMonths: number;
  autoRenew: boolean;
  startsAt: number;
  expiresAt: number;
  status: ContractView['status'];
  versions: ContractVersion[];
}

export class Contracts {
  private readonly byRef = new Map<string, Contract>();
  private readonly byProduct = new Map<string, Contract[]>();

  create(buyer: Buyer, terms: ContractTerms, now: number, lagMs: number): Contract {
    const c: Contract = {
      buyer,
      dimensions: { ...terms.dimensions },
      durationMonths: terms.durationMonths,
      autoRenew: terms.autoRenew,
      startsAt: now,
      expiresAt: addMonths(now, terms.durationMonths),
      status: 'active',
      versions: [],
    };
    this.byRef.set(buyer.ref, c);
    const list = this.byProduct.get(buyer.productCode);
    if (list) list.push(c);
    else this.byProduct.set(buyer.productCode, [c]);
    this.changed(c, now, lagMs);
    return c;
  }

  /** The buyer's contract, if it has one. */
  of(buyer: Buyer): Contract | undefined {
    return this.byRef.get(buyer.ref);
  }

  /** Records the contract's current state as a new version. */
  changed(c: Contract, now: number, lagMs: number): void {
    c.versions.push({
      visibleAt: now + lagMs,
      ...(c.status === 'active' ? { dimensions: { ...c.dimensions } } : {}),
      expiresAt: c.expiresAt,
    });
  }

  /** The version GetEntitlements shows at `now`: the newest one already visible (not the latest visibleAt). */
  visible(c: Contract, now: number): ContractVersion | undefined {
    for (let i = c.versions.length - 1; i >= 0; i--) if (c.versions[i].visibleAt <= now) return c.versions[i];
    return undefined;
  }

  ofProduct(productCode: string): readonly Contract[] {
    return this.byProduct.get(productCode) ?? [];
  }

  active(): Contract[] {
    return [...this.byRef.values()].filter((c) => c.status === 'active');
  }

  view(c: Contract): ContractView {
    return { dimensions: { ...c.dimensions }, durationMonths: c.durationMonths, autoRenew: c.autoRenew, startsAt: c.startsAt, expiresAt: c.expiresAt, status: c.status };
  }

  rows(productCode?: string): EntitlementRow[] {
    const contracts = productCode === undefined ? [...this.byProduct.values()].flat() : this.ofProduct(productCode);
    const rows: EntitlementRow[] = [];
    for (const c of contracts) {
      const b = c.buyer;
      const visibleAt = c.versions[c.versions.length - 1].visibleAt;
      for (const [dimension, v] of Object.entries(c.dimensions)) {
        rows.push({
          productCode: b.productCode,
          dimension,
          customerAWSAccountId: b.accountId,
          ...(b.licenseArn !== undefined ? { licenseArn: b.licenseArn } : {}),
          ...(b.customerIdentifier !== undefined ? { customerIdentifier: b.customerIdentifier } : {}),
          agreementId: b.agreementId,
          value: entitlementValue(v),
          expirationDate: c.expiresAt,
          contractStatus: c.status,
          visibleAt,
        });
      }
    }
    return rows;
  }
}
