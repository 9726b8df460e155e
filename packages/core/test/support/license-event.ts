import type { Subscription } from '@meterkit/emulator';

/** The EventBridge event AWS Marketplace sends about a subscription's license: the JSON body the receiver is given. */
export function licenseEvent(detailType: string, id: string, time: number, subscription: Subscription): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.agreement-marketplace',
    account: '111111111111',
    time: new Date(time).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      agreement: { id: subscription.agreementId },
      product: { code: subscription.productCode },
      license: { arn: subscription.licenseArn },
      acceptor: { accountId: subscription.accountId },
    },
  };
}
