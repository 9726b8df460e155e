/** Every agreement the emulator made, for the Agreement API: status, term dates and the renewal chain. */
import type { Buyer } from '../state/buyers';
import type { ContractDimensions } from '../types';

export type AgreementStatus = 'ACTIVE' | 'CANCELLED' | 'EXPIRED' | 'RENEWED' | 'REPLACED';

export interface AgreementRecord {
  agreementId: string;
  buyer: Buyer;
  intent: 'NEW' | 'RENEW' | 'REPLACE';
  status: AgreementStatus;
  acceptanceTime: number;
  startTime: number;
  endTime: number;
  lastUpdateTime: number;
  previousAgreementId?: string;
  initialAgreementId: string;
  offerId: string;
  /** Contract products: what the buyer bought under this agreement (amendments update it). */
  contract?: { dimensions: ContractDimensions; durationMonths: number; autoRenew: boolean };
}

export class Agreements {
  private readonly byId = new Map<string, AgreementRecord>();
  private readonly all: AgreementRecord[] = [];

  add(r: AgreementRecord): AgreementRecord {
    this.byId.set(r.agreementId, r);
    this.all.push(r);
    return r;
  }

  get(id: string): AgreementRecord | undefined {
    return this.byId.get(id);
  }

  /** Ends an agreement if it is still active. */
  end(id: string, status: Exclude<AgreementStatus, 'ACTIVE'>, at: number): void {
    const r = this.byId.get(id);
    if (!r || r.status !== 'ACTIVE') return;
    r.status = status;
    r.lastUpdateTime = at;
    if (status === 'CANCELLED' || status === 'REPLACED') r.endTime = Math.min(r.endTime, at);
  }

  list(): readonly AgreementRecord[] {
    return this.all;
  }
}
