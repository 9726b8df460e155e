import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, MeterkitError, type ErrorCode } from '../errors';
import type { Metering } from '../metering';
import type { ApplyOutcome } from './lifecycle';
import { parseEventBridgeEvent, parseLegacyNotification } from './marketplace-event';
import { assertSnsTime } from './event-time';
import { isAwsSnsCertificateUrl, parseSnsMessage, SnsVerifier, type SnsVerifierOptions } from './sns-message';
import { isAccountId, MARKETPLACE_SNS_ACCOUNT, marketplaceTopic } from './sns-topic';

export interface LifecycleRouteOptions {
  /** Where EventBridge (API destination) or SNS posts lifecycle events. */
  readonly path: string;
  /**
   * The secret your EventBridge connection sends (API key authorization) in `headerName`. Required for
   * EventBridge deliveries; at least 16 characters. Compared in constant time.
   */
  readonly secret?: string;
  /** Default 'x-api-key'. */
  readonly headerName?: string;
  /** Largest accepted body in bytes. Default 65 536. */
  readonly maxBodyBytes?: number;
  /**
   * Accept legacy SNS notifications (signature-verified). Default off. Only topics of the AWS Marketplace account
   * named for a configured product are accepted (and their subscriptions confirmed).
   */
  readonly sns?: boolean | SnsRouteOptions;
}

export interface SnsRouteOptions extends SnsVerifierOptions {
  /** Older messages are refused as replays. Default 3 600 000 (1 hour). */
  readonly maxAgeMs?: number;
  /** Follow a SubscriptionConfirmation's SubscribeURL. Default true. */
  readonly confirmSubscriptions?: boolean;
  /** The account that owns the notification topics. Default 287250355862, AWS Marketplace's; another for a test double. */
  readonly topicAccountId?: string;
}

export interface DeliveryRequest {
  /** Header names lower-cased, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body (string or Buffer), or a body the framework already parsed as JSON. */
  readonly body: unknown;
}

export type LifecycleResult =
  | { readonly status: 200; readonly body: { readonly outcome: ApplyOutcome | 'confirmed' } }
  | { readonly status: 400 | 401 | 403 | 404 | 413 | 503; readonly body: { readonly error: { readonly code: string; readonly message: string } } };

const STATUS: Partial<Record<ErrorCode, 400 | 401 | 403>> = {
  [ErrorCodes.LIFECYCLE_MALFORMED]: 400,
  [ErrorCodes.LIFECYCLE_STALE]: 400,
  [ErrorCodes.LIFECYCLE_FUTURE]: 400,
  [ErrorCodes.LIFECYCLE_UNAUTHORIZED]: 401,
  [ErrorCodes.SNS_SIGNATURE]: 403,
  [ErrorCodes.SNS_TOPIC]: 403,
};

function failure(status: 400 | 401 | 403 | 404 | 413 | 503, code: string, message: string): LifecycleResult {
  return { status, body: { error: { code, message } } };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function header(headers: DeliveryRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Receives lifecycle deliveries in any framework: EventBridge API destinations (secret header) and, if enabled,
 * legacy SNS notifications (signature). Answers fast; nothing changes on a refused delivery.
 */
export class LifecycleReceiver {
  private readonly secretDigest: Buffer | undefined;
  private readonly headerName: string;
  private readonly maxBodyBytes: number;
  private readonly sns: SnsVerifier | undefined;
  private readonly snsMaxAgeMs: number;
  private readonly confirmSubscriptions: boolean;
  private readonly topicAccountId: string;

  constructor(
    private readonly metering: Metering,
    options: LifecycleRouteOptions,
  ) {
    if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length < 16)) {
      throw new MeterkitError(ErrorCodes.OPTIONS, 'lifecycle.secret must be a string of at least 16 characters.');
    }
    if (options.secret === undefined && !options.sns) {
      throw new MeterkitError(ErrorCodes.OPTIONS, 'lifecycle needs a secret (EventBridge API destination) or sns: true.');
    }
    this.secretDigest = options.secret === undefined ? undefined : digest(options.secret);
    this.headerName = (options.headerName ?? 'x-api-key').toLowerCase();
    this.maxBodyBytes = options.maxBodyBytes ?? 65_536;
    const sns = options.sns === true ? {} : options.sns || undefined;
    this.sns = sns === undefined ? undefined : new SnsVerifier(sns);
    this.snsMaxAgeMs = sns?.maxAgeMs ?? 3_600_000;
    this.confirmSubscriptions = sns?.confirmSubscriptions ?? true;
    if (sns?.topicAccountId !== undefined && !isAccountId(sns.topicAccountId)) {
      throw new MeterkitError(ErrorCodes.OPTIONS, 'lifecycle.sns.topicAccountId must be a 12-digit AWS account id.');
    }
    this.topicAccountId = sns?.topicAccountId ?? MARKETPLACE_SNS_ACCOUNT;
  }

  get bodyLimit(): number {
    return this.maxBodyBytes;
  }

  async handle(request: DeliveryRequest): Promise<LifecycleResult> {
    const raw = request.body;
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : Buffer.isBuffer(raw) ? raw.length : 0;
    if (size > this.maxBodyBytes) return failure(413, ErrorCodes.LIFECYCLE_MALFORMED, `Deliveries are limited to ${this.maxBodyBytes} bytes.`);
    try {
      const isSns = header(request.headers, 'x-amz-sns-message-type') !== undefined;
      if (isSns) return await this.handleSns(raw);
      this.authorize(request.headers);
      const event = parseEventBridgeEvent(this.json(raw));
      return { status: 200, body: { outcome: await this.metering.applyLifecycleEvent(event) } };
    } catch (error) {
      if (error instanceof MeterkitError && STATUS[error.code] !== undefined) return failure(STATUS[error.code]!, error.code, error.message);
      if (error instanceof MeterkitError && error.code === ErrorCodes.OPTIONS) return failure(404, error.code, error.message);
      if (error instanceof MeterkitError && error.code === ErrorCodes.CUSTOMER_CONFLICT) return failure(503, error.code, error.message);
      return failure(503, ErrorCodes.STORE, 'The event could not be stored; deliver it again later.');
    }
  }

  private authorize(headers: DeliveryRequest['headers']): void {
    const given = header(headers, this.headerName);
    if (this.secretDigest === undefined || given === undefined || !timingSafeEqual(digest(given), this.secretDigest)) {
      throw new MeterkitError(ErrorCodes.LIFECYCLE_UNAUTHORIZED, 'Missing or wrong lifecycle secret.');
    }
  }

  private json(raw: unknown): unknown {
    if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) return raw;
    try {
      return JSON.parse(raw.toString());
    } catch {
      throw new MeterkitError(ErrorCodes.LIFECYCLE_MALFORMED, 'The body is not JSON.');
    }
  }

  private async handleSns(raw: unknown): Promise<LifecycleResult> {
    if (this.sns === undefined) throw new MeterkitError(ErrorCodes.OPTIONS, 'SNS deliveries are not enabled on this route.');
    const message = parseSnsMessage(this.json(raw));
    const topic = marketplaceTopic(message.TopicArn, this.topicAccountId, (code) => this.metering.hasProduct(code));
    await this.sns.verify(message);
    const timestamp = Date.parse(message.Timestamp);
    assertSnsTime(timestamp, this.metering.now(), this.snsMaxAgeMs, this.metering.eventClockSkewMs);
    if (message.Type !== 'Notification') {
      if (message.Type === 'SubscriptionConfirmation' && this.confirmSubscriptions) await this.confirm(message.SubscribeURL);
      return { status: 200, body: { outcome: 'confirmed' } };
    }
    const event = parseLegacyNotification(message.MessageId, timestamp, message.Message);
    if (event.change !== undefined && 'productCode' in event.change && event.change.productCode !== topic.productCode) {
      throw new MeterkitError(ErrorCodes.SNS_TOPIC, "The SNS message names another product than its topic's: refused.");
    }
    // The entitlement topic carries only entitlement-updated; a subscription action on it is not AWS Marketplace's.
    if (topic.kind === 'entitlement' && event.type !== 'entitlement-updated') {
      throw new MeterkitError(ErrorCodes.SNS_TOPIC, `The entitlement notification topic carries only entitlement-updated, not ${event.type}: refused.`);
    }
    return { status: 200, body: { outcome: await this.metering.applyLifecycleEvent(event) } };
  }

  private async confirm(subscribeUrl: string | undefined): Promise<void> {
    if (subscribeUrl === undefined || !(this.sns!.isTrustedUrl(subscribeUrl) || isTrustedSubscribeUrl(subscribeUrl))) {
      throw new MeterkitError(ErrorCodes.SNS_SIGNATURE, 'The SubscribeURL is not on an AWS SNS host.');
    }
    const response = await fetch(subscribeUrl, { signal: AbortSignal.timeout(5000), redirect: 'error' });
    if (!response.ok) throw new Error(`SNS subscription confirmation answered ${response.status}`);
  }
}

function isTrustedSubscribeUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return isAwsSnsCertificateUrl(new URL(`${url.origin}/x.pem`));
  } catch {
    return false;
  }
}

/**
 * A Lambda handler for lifecycle events delivered by an EventBridge rule directly, or through SQS. It returns once the
 * work the events started (final-usage flushes, contract entitlement re-reads) is done: a frozen function runs nothing.
 */
export function createLifecycleHandler(metering: Metering) {
  return async (input: unknown): Promise<LambdaLifecycleResult> => {
    try {
      return await applyLambdaInput(metering, input);
    } finally {
      await metering.idle();
    }
  };
}

/** What the Lambda handler answers: SQS partial batch failures, or the outcome of one EventBridge event. */
export type LambdaLifecycleResult = { batchItemFailures: Array<{ itemIdentifier: string }> } | { outcome: ApplyOutcome };

async function applyLambdaInput(metering: Metering, input: unknown): Promise<LambdaLifecycleResult> {
  const records = (input as { Records?: Array<{ messageId: string; body: string }> } | null)?.Records;
  if (!Array.isArray(records)) return { outcome: await metering.applyLifecycleEvent(parseEventBridgeEvent(input)) };
  const batchItemFailures: Array<{ itemIdentifier: string }> = [];
  for (const record of records) {
    try {
      await metering.applyLifecycleEvent(parseEventBridgeEvent(JSON.parse(record.body)));
    } catch (error) {
      if (error instanceof MeterkitError && error.code === ErrorCodes.LIFECYCLE_MALFORMED) continue;
      if (error instanceof SyntaxError) continue;
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
