/**
 * Legacy SNS notifications (aws-mp-subscription-notification-<productCode>, and for contract products
 * aws-mp-entitlement-notification-<productCode>), signed with SignatureVersion 2
 * (SHA256withRSA over the canonical SNS string to sign) using the emulator-only key in ../../certs.
 */
import { createSign, createVerify, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Buyer } from '../state/buyers';

export type SnsAction = 'subscribe-success' | 'subscribe-fail' | 'unsubscribe-pending' | 'unsubscribe-success' | 'entitlement-updated';

export const SNS_CERT_PATH = '/_emulator/sns/cert.pem';
const CERT_DIR = join(__dirname, '..', '..', 'certs');

let cached: { cert: string; key: string } | undefined;
export function snsSigningMaterial(): { cert: string; key: string } {
  cached ??= {
    cert: readFileSync(join(CERT_DIR, 'sns-signing-cert.pem'), 'utf8'),
    key: readFileSync(join(CERT_DIR, 'sns-signing-key.pem'), 'utf8'),
  };
  return cached;
}

export interface SnsNotification {
  Type: 'Notification';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '2';
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
}

/** AWS Marketplace's topics live in its own account, not the seller's: every real topic ARN names this one. */
export const MARKETPLACE_TOPIC_ACCOUNT = '287250355862';

/** `entitlement-updated` travels on the contract products' entitlement topic, every other action on the subscription topic. */
export function topicArn(topicAccountId: string, productCode: string, action: SnsAction = 'subscribe-success'): string {
  const topic = action === 'entitlement-updated' ? 'aws-mp-entitlement-notification' : 'aws-mp-subscription-notification';
  return `arn:aws:sns:us-east-1:${topicAccountId}:${topic}-${productCode}`;
}

/** The canonical string SNS signs for a Notification (Subject only when present). */
export function snsStringToSign(m: { Message: string; MessageId: string; Subject?: string; Timestamp: string; TopicArn: string; Type: string }): string {
  let s = `Message\n${m.Message}\nMessageId\n${m.MessageId}\n`;
  if (m.Subject !== undefined) s += `Subject\n${m.Subject}\n`;
  s += `Timestamp\n${m.Timestamp}\nTopicArn\n${m.TopicArn}\nType\n${m.Type}\n`;
  return s;
}

export function buildSnsNotification(action: SnsAction, b: Buyer, topicAccountId: string, endpoint: string, now: number): SnsNotification {
  const message =
    action === 'entitlement-updated'
      ? { action, 'customer-identifier': b.customerIdentifier, 'product-code': b.productCode }
      : {
          action,
          'customer-identifier': b.customerIdentifier,
          'product-code': b.productCode,
          'offer-identifier': b.offerId,
          isFreeTrialTermPresent: b.offerType === 'free-trial' ? 'true' : 'false',
        };
  const arn = topicArn(topicAccountId, b.productCode, action);
  const base = { Type: 'Notification' as const, MessageId: randomUUID(), TopicArn: arn, Message: JSON.stringify(message), Timestamp: new Date(now).toISOString() };
  const signer = createSign('RSA-SHA256');
  signer.update(snsStringToSign(base));
  return {
    ...base,
    SignatureVersion: '2',
    Signature: signer.sign(snsSigningMaterial().key, 'base64'),
    SigningCertURL: `${endpoint}${SNS_CERT_PATH}`,
    UnsubscribeURL: `${endpoint}/_emulator/sns/unsubscribe?SubscriptionArn=${encodeURIComponent(`${arn}:${randomUUID()}`)}`,
  };
}

/** Verifies an SNS notification against a PEM certificate (what a seller's receiver does). */
export function verifySnsNotification(n: SnsNotification, certPem: string): boolean {
  if (n.SignatureVersion !== '2') return false;
  const v = createVerify('RSA-SHA256');
  v.update(snsStringToSign(n));
  return v.verify(certPem, n.Signature, 'base64');
}
