import { ErrorCodes, MeterkitError } from '../errors';

/**
 * The AWS account that owns AWS Marketplace's SNS topics (`arn:aws:sns:us-east-1:287250355862:aws-mp-…`). SNS signs
 * every topic's messages with the same certificate, so a valid signature proves only that SNS delivered the message:
 * the topic's account proves that AWS Marketplace published it (docs/decisions.md).
 */
export const MARKETPLACE_SNS_ACCOUNT = '287250355862';

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:(\d{12}):aws-mp-(subscription|entitlement)-notification-([^:]+)$/;

export interface MarketplaceTopic {
  readonly kind: 'subscription' | 'entitlement';
  readonly productCode: string;
}

function refused(message: string): MeterkitError {
  return new MeterkitError(ErrorCodes.SNS_TOPIC, message);
}

/**
 * The Marketplace topic a TopicArn names, if it is one of `accountId` for a configured product; otherwise
 * ERR_METERKIT_SNS_TOPIC. Checked before anything in the message is acted on, a subscription confirmation included.
 */
export function marketplaceTopic(topicArn: string, accountId: string, isConfiguredProduct: (productCode: string) => boolean): MarketplaceTopic {
  const match = TOPIC_ARN.exec(topicArn);
  if (match === null) throw refused('The SNS topic is not an AWS Marketplace notification topic.');
  const [, account, kind, productCode] = match as unknown as [string, string, MarketplaceTopic['kind'], string];
  if (account !== accountId) throw refused('The SNS topic does not belong to the AWS Marketplace account: refused.');
  if (!isConfiguredProduct(productCode)) throw refused('The SNS topic is for a product this app does not meter: refused.');
  return { kind, productCode };
}

/** An AWS account id option: twelve digits. */
export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && /^\d{12}$/.test(value);
}
