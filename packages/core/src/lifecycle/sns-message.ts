import { createVerify, X509Certificate } from 'node:crypto';
import { ErrorCodes, MeterkitError } from '../errors';

export interface SnsMessage {
  readonly Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly SignatureVersion: '1' | '2';
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly Subject?: string;
  readonly SubscribeURL?: string;
  readonly Token?: string;
}

export interface SnsVerifierOptions {
  /** Which certificate URLs to trust. Default: https on an AWS SNS host (sns.<region>.amazonaws.com[.cn]), a .pem path. */
  readonly trustCertificateUrl?: (url: URL) => boolean;
  /** Fetches a certificate (PEM). Default: an HTTPS GET with a 5 s timeout; results are cached. */
  readonly fetchCertificate?: (url: string) => Promise<string>;
}

const AWS_SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export function isAwsSnsCertificateUrl(url: URL): boolean {
  return url.protocol === 'https:' && AWS_SNS_HOST.test(url.hostname) && url.pathname.endsWith('.pem');
}

function invalid(message: string): MeterkitError {
  return new MeterkitError(ErrorCodes.SNS_SIGNATURE, message);
}

/** Parses an SNS HTTP delivery body, checking each field's presence and type. */
export function parseSnsMessage(body: unknown): SnsMessage {
  const m = body as Record<string, unknown> | null;
  const required = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'];
  if (m === null || typeof m !== 'object' || required.some((k) => typeof m[k] !== 'string' || (m[k] as string).length > 262_144)) {
    throw new MeterkitError(ErrorCodes.LIFECYCLE_MALFORMED, 'The SNS message lacks required fields.');
  }
  if (!['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'].includes(m.Type as string)) {
    throw new MeterkitError(ErrorCodes.LIFECYCLE_MALFORMED, 'Unknown SNS message type.');
  }
  if (m.SignatureVersion !== '1' && m.SignatureVersion !== '2') throw invalid('Unsupported SNS signature version.');
  return m as unknown as SnsMessage;
}

/** The canonical string SNS signs, per message type. */
export function snsStringToSign(m: SnsMessage): string {
  const keys =
    m.Type === 'Notification'
      ? ['Message', 'MessageId', ...(m.Subject === undefined ? [] : ['Subject']), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys.map((k) => `${k}\n${(m as unknown as Record<string, string>)[k] ?? ''}\n`).join('');
}

async function httpsGet(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (!response.ok) throw new Error(`certificate download answered ${response.status}`);
  const text = await response.text();
  if (text.length > 65_536) throw new Error('certificate too large');
  return text;
}

/** Verifies SNS signatures (versions 1 and 2) against certificates from trusted URLs only. */
export class SnsVerifier {
  private readonly certificates = new Map<string, Promise<X509Certificate>>();
  private readonly trust: (url: URL) => boolean;
  private readonly fetchCertificate: (url: string) => Promise<string>;

  constructor(options: SnsVerifierOptions = {}) {
    this.trust = options.trustCertificateUrl ?? isAwsSnsCertificateUrl;
    this.fetchCertificate = options.fetchCertificate ?? httpsGet;
  }

  isTrustedUrl(raw: string): boolean {
    try {
      return this.trust(new URL(raw));
    } catch {
      return false;
    }
  }

  async verify(message: SnsMessage): Promise<void> {
    if (!this.isTrustedUrl(message.SigningCertURL)) throw invalid('The SNS signing certificate does not come from an AWS SNS host.');
    const certificate = await this.certificate(message.SigningCertURL);
    const verifier = createVerify(message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    verifier.update(snsStringToSign(message), 'utf8');
    if (!verifier.verify(certificate.publicKey, message.Signature, 'base64')) throw invalid('The SNS signature does not match the message.');
  }

  private certificate(url: string): Promise<X509Certificate> {
    let cached = this.certificates.get(url);
    if (cached === undefined) {
      cached = this.fetchCertificate(url).then((pem) => new X509Certificate(pem));
      cached.catch(() => this.certificates.delete(url));
      if (this.certificates.size > 100) this.certificates.clear();
      this.certificates.set(url, cached);
    }
    return cached.catch((cause: unknown) => {
      throw new MeterkitError(ErrorCodes.SNS_SIGNATURE, 'Could not load the SNS signing certificate.', { cause });
    });
  }
}
