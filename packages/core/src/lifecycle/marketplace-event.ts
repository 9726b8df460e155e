import { ErrorCodes, MeterkitError } from '../errors';

/** The lifecycle changes meterkit acts on, from either EventBridge or legacy SNS. */
export type LifecycleChange =
  | { readonly kind: 'agreement-created'; readonly agreementId: string; readonly intent?: string; readonly previousAgreementId?: string }
  | { readonly kind: 'agreement-amended'; readonly agreementId: string }
  | { readonly kind: 'agreement-ended'; readonly agreementId: string; readonly status: string }
  | {
      readonly kind: 'license-updated' | 'license-deprovisioned';
      readonly agreementId?: string;
      readonly licenseArn: string;
      readonly productCode: string;
      readonly accountId: string;
    }
  | {
      readonly kind: 'legacy-subscribe-success' | 'legacy-subscribe-fail' | 'legacy-unsubscribe-pending' | 'legacy-unsubscribe-success' | 'legacy-entitlement-updated';
      readonly productCode: string;
      readonly customerIdentifier: string;
    };

export interface LifecycleEvent {
  /** Unique per delivery source: the EventBridge envelope id or the SNS MessageId. */
  readonly id: string;
  /** When AWS emitted it (ms epoch). */
  readonly time: number;
  /** EventBridge detail-type or SNS action, for logs and hooks. */
  readonly type: string;
  readonly change: LifecycleChange | undefined;
}

export const EVENT_SOURCE = 'aws.agreement-marketplace';

function malformed(message: string): MeterkitError {
  return new MeterkitError(ErrorCodes.LIFECYCLE_MALFORMED, message);
}

function object(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown, max = 2048): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
}

function path(root: Record<string, unknown>, ...keys: string[]): unknown {
  let current: unknown = root;
  for (const key of keys) current = object(current)?.[key];
  return current;
}

/** AWS's own example prints License Manager ARNs without the `arn:` prefix; store the form AWS accepts. */
export function normalizeLicenseArn(value: string): string {
  return value.startsWith('aws:license-manager:') ? `arn:${value}` : value;
}

/** Parses an EventBridge event of source aws.agreement-marketplace. Unknown detail-types parse with no change. */
export function parseEventBridgeEvent(input: unknown): LifecycleEvent {
  const envelope = object(input);
  if (envelope === undefined) throw malformed('The event body is not a JSON object.');
  const id = text(envelope.id, 256);
  const detailType = text(envelope['detail-type'], 256);
  const time = typeof envelope.time === 'string' ? Date.parse(envelope.time) : Number.NaN;
  if (id === undefined || detailType === undefined || Number.isNaN(time)) throw malformed('The event lacks an id, a detail-type or a time.');
  if (envelope.source !== EVENT_SOURCE) throw malformed(`The event's source is not ${EVENT_SOURCE}.`);
  const detail = object(envelope.detail);
  if (detail === undefined) throw malformed('The event has no detail.');
  const base = detailType.replace(/ - (Manufacturer|Proposer)$/, '');
  const agreementId = text(path(detail, 'agreement', 'id'), 256);
  const event = (change: LifecycleChange | undefined): LifecycleEvent => ({ id, time, type: detailType, change });

  switch (base) {
    case 'License Updated':
    case 'License Deprovisioned': {
      const licenseArn = text(path(detail, 'license', 'arn'));
      const productCode = text(path(detail, 'product', 'code'), 255);
      const accountId = text(path(detail, 'acceptor', 'accountId'), 255);
      if (licenseArn === undefined || productCode === undefined || accountId === undefined) {
        throw malformed(`${base} needs license.arn, product.code and acceptor.accountId.`);
      }
      return event({
        kind: base === 'License Updated' ? 'license-updated' : 'license-deprovisioned',
        licenseArn: normalizeLicenseArn(licenseArn),
        productCode,
        accountId,
        ...(agreementId === undefined ? {} : { agreementId }),
      });
    }
    case 'Purchase Agreement Created': {
      if (agreementId === undefined) throw malformed(`${base} needs agreement.id.`);
      const intent = text(path(detail, 'agreement', 'intent'), 64);
      const previousAgreementId = text(path(detail, 'agreement', 'previousAgreementId'), 256);
      return event({
        kind: 'agreement-created',
        agreementId,
        ...(intent === undefined ? {} : { intent }),
        ...(previousAgreementId === undefined ? {} : { previousAgreementId }),
      });
    }
    case 'Purchase Agreement Amended':
      if (agreementId === undefined) throw malformed(`${base} needs agreement.id.`);
      return event({ kind: 'agreement-amended', agreementId });
    case 'Purchase Agreement Ended':
      if (agreementId === undefined) throw malformed(`${base} needs agreement.id.`);
      return event({ kind: 'agreement-ended', agreementId, status: text(path(detail, 'agreement', 'status'), 64) ?? 'ENDED' });
    default:
      return event(undefined);
  }
}

const LEGACY_ACTIONS: Record<string, Extract<LifecycleChange, { customerIdentifier: string }>['kind']> = {
  'subscribe-success': 'legacy-subscribe-success',
  'subscribe-fail': 'legacy-subscribe-fail',
  'unsubscribe-pending': 'legacy-unsubscribe-pending',
  'unsubscribe-success': 'legacy-unsubscribe-success',
  'entitlement-updated': 'legacy-entitlement-updated',
};

/**
 * Parses the Message of a verified SNS notification from an aws-mp-*-notification topic. Both spellings AWS has
 * documented are accepted: `customer-identifier` / `product-code` and `CustomerIdentifier` / `ProductCode`.
 */
export function parseLegacyNotification(messageId: string, timestamp: number, message: string): LifecycleEvent {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    throw malformed('The SNS message is not JSON.');
  }
  const fields = object(body);
  const action = text(fields?.action, 64);
  const productCode = text(fields?.['product-code'] ?? fields?.ProductCode, 255);
  const kind = action === undefined ? undefined : LEGACY_ACTIONS[action];
  if (kind === undefined || productCode === undefined) throw malformed('The SNS message has no known action or product-code.');
  const customerIdentifier = text(fields?.['customer-identifier'] ?? fields?.CustomerIdentifier, 255);
  if (customerIdentifier === undefined) {
    if (kind !== 'legacy-entitlement-updated') throw malformed('The SNS message has no customer-identifier.');
    return { id: messageId, time: timestamp, type: action!, change: undefined };
  }
  return { id: messageId, time: timestamp, type: action!, change: { kind, productCode, customerIdentifier } };
}
