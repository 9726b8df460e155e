/** Shared by the Agreement API operations (AWS JSON 1.0): errors, id checks, paging, and the agreement views. */
import { createHash } from 'node:crypto';
import type { AgreementRecord } from '../../contracts/agreements';
import { productId } from '../../lifecycle/eventbridge-events';
import { AwsError } from '../../rules/errors';
import { asObject, optInteger, optString } from '../../rules/model-constraints';
import type { EmulatorState } from '../../state/emulator-state';

export const validation = (message: string) => new AwsError('ValidationException', message, 400);

const AGREEMENT_ID_RE = /^[A-Za-z0-9_/-]+$/;

/** Epoch seconds, as AWS JSON timestamps travel. */
export const seconds = (ms: number) => ms / 1000;

/** The record of a valid `agreementId` member, or ValidationException / ResourceNotFoundException (404). */
export function agreementOf(o: Record<string, unknown>, state: EmulatorState): AgreementRecord {
  const id = optString(o, 'agreementId', '');
  if (id === undefined || id.length < 1 || id.length > 64 || !AGREEMENT_ID_RE.test(id))
    throw validation(`agreementId must be 1 to 64 characters matching ${AGREEMENT_ID_RE.source}`);
  const r = state.agreements.get(id);
  if (!r) throw new AwsError('ResourceNotFoundException', `Agreement ${id} was not found`, 404, { resourceId: id, resourceType: 'Agreement' });
  return r;
}

/** One page of `items` by `maxResults` (1..max, default max) and an opaque `nextToken` (the next offset). */
export function page<T>(o: Record<string, unknown>, items: readonly T[], max: number): { items: T[]; nextToken?: string } {
  const maxResults = optInteger(o, 'maxResults', '');
  const token = optString(o, 'nextToken', '');
  if (maxResults !== undefined && (maxResults < 1 || maxResults > max)) throw validation(`maxResults must be from 1 to ${max}`);
  let offset = 0;
  if (token !== undefined) {
    const m = /^p([0-9]+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!m) throw validation('nextToken is not valid');
    offset = Number(m[1]);
  }
  const size = maxResults ?? max;
  const next = offset + size;
  return { items: items.slice(offset, next), ...(next < items.length ? { nextToken: Buffer.from(`p${next}`).toString('base64url') } : {}) };
}

export function input(raw: unknown): Record<string, unknown> {
  return asObject(raw, '');
}

export function termId(agreementId: string, kind: string): string {
  return `term-${createHash('sha256').update(`${agreementId}/${kind}`).digest('hex').slice(0, 24)}`;
}

export function proposalSummary(r: AgreementRecord) {
  return { resources: [{ id: productId(r.buyer.productCode), type: 'SaaSProduct' }], offerId: r.offerId };
}

export function endTimeBehaviorType(r: AgreementRecord): 'RENEW' | 'EXPIRE' {
  return r.contract?.autoRenew ? 'RENEW' : 'EXPIRE';
}
