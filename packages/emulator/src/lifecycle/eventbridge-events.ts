/** EventBridge events AWS Marketplace sends for SaaS (source aws.agreement-marketplace), reference §10.1. */
import { createHash, randomUUID } from 'node:crypto';
import type { Buyer } from '../state/buyers';

export const EVENT_SOURCE = 'aws.agreement-marketplace';

export interface MarketplaceEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: typeof EVENT_SOURCE;
  account: string;
  time: string;
  region: 'us-east-1';
  resources: string[];
  detail: Record<string, unknown>;
}

export type Role = 'Proposer' | 'Manufacturer';

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function productId(productCode: string): string {
  return `prod-${createHash('sha256').update(productCode).digest('hex').slice(0, 13)}`;
}

export function agreementArn(agreementId: string): string {
  return `arn:aws:aws-marketplace::aws:agreement:${agreementId}`;
}

function envelope(detailType: string, agreementId: string, detail: Record<string, unknown>, seller: string, now: number): MarketplaceEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: EVENT_SOURCE,
    account: seller,
    time: isoSeconds(now),
    region: 'us-east-1',
    resources: [agreementArn(agreementId)],
    detail,
  };
}

function parties(b: Buyer, seller: string) {
  return { acceptor: { accountId: b.accountId }, proposer: { accountId: seller }, offer: { id: b.offerId } };
}

export const YEAR_MS = 365 * 24 * 3_600_000;

/** An agreement's term; default from now for a year. */
export interface Term {
  startTime: number;
  endTime: number;
}

export function agreementCreated(
  b: Buyer,
  role: Role,
  seller: string,
  now: number,
  intent: 'NEW' | 'RENEW' | 'REPLACE',
  previousAgreementId?: string,
  term: Term = { startTime: now, endTime: now + YEAR_MS },
): MarketplaceEvent {
  const agreement: Record<string, unknown> = {
    id: b.agreementId,
    intent,
    status: 'ACTIVE',
    acceptanceTime: isoSeconds(now),
    startTime: isoSeconds(term.startTime),
    endTime: isoSeconds(term.endTime),
  };
  if (previousAgreementId) agreement.previousAgreementId = previousAgreementId;
  const detail: Record<string, unknown> = {
    requestId: randomUUID(),
    catalog: 'AWSMarketplace',
    agreement,
    ...parties(b, seller),
    resaleAuthorization: { id: null },
  };
  if (intent !== 'NEW') detail.product = { id: productId(b.productCode), title: b.productCode };
  return envelope(`Purchase Agreement Created - ${role}`, b.agreementId, detail, seller, now);
}

export function agreementAmended(
  b: Buyer,
  role: Role,
  seller: string,
  now: number,
  term: Term & { autoRenew: boolean } = { startTime: b.createdAt, endTime: b.createdAt + YEAR_MS, autoRenew: true },
): MarketplaceEvent {
  return envelope(
    `Purchase Agreement Amended - ${role}`,
    b.agreementId,
    {
      requestId: randomUUID(),
      agreement: { id: b.agreementId, intent: 'AMEND', status: 'ACTIVE', startTime: isoSeconds(term.startTime), endTime: isoSeconds(term.endTime), autoRenewalEnabled: term.autoRenew },
      renewalSummary: { lockoutStartTime: isoSeconds(term.endTime - 24 * 3_600_000), disabledBy: null },
      product: { id: productId(b.productCode), title: b.productCode },
      ...parties(b, seller),
    },
    seller,
    now,
  );
}

export function agreementEnded(b: Buyer, agreementId: string, role: Role, seller: string, now: number, status: 'CANCELLED' | 'REPLACED' | 'RENEWED' | 'EXPIRED'): MarketplaceEvent {
  return envelope(`Purchase Agreement Ended - ${role}`, agreementId, { requestId: randomUUID(), agreement: { id: agreementId, status }, ...parties(b, seller) }, seller, now);
}

function licenseEvent(kind: 'License Updated - Manufacturer' | 'License Deprovisioned - Manufacturer', b: Buyer, seller: string, now: number): MarketplaceEvent {
  return envelope(
    kind,
    b.agreementId,
    {
      requestId: randomUUID(),
      agreement: { id: b.agreementId },
      product: { code: b.productCode, id: productId(b.productCode) },
      license: { arn: b.licenseArn },
      ...parties(b, seller),
    },
    seller,
    now,
  );
}

export const licenseUpdated = (b: Buyer, seller: string, now: number) => licenseEvent('License Updated - Manufacturer', b, seller, now);
export const licenseDeprovisioned = (b: Buyer, seller: string, now: number) => licenseEvent('License Deprovisioned - Manufacturer', b, seller, now);
