import { GetEntitlementsCommand, type GetEntitlementsResult, type MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { ErrorCodes } from '../src';
import { createEntitlementClient } from '../src/contracts/entitlement-client';
import { readEntitlements, type ReadEntitlementsDeps } from '../src/contracts/read-entitlements';

const LICENSE = { kind: 'license', licenseArn: 'arn:aws:license-manager::123456789012:license:l-abc', customerAwsAccountId: '123456789012', productCode: 'prod-c' } as const;

function awsError(name: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: fault === 'server' ? 500 : 400 } });
}

/** A client answering scripted pages (or throwing scripted errors) and recording every request. */
function scripted(answers: Array<GetEntitlementsResult | Error>) {
  const inputs: Array<GetEntitlementsCommand['input']> = [];
  const client = {
    send: async (command: GetEntitlementsCommand) => {
      inputs.push(command.input);
      const next = answers.shift();
      if (next === undefined) throw new Error('no more scripted answers');
      if (next instanceof Error) throw next;
      return next;
    },
  } as unknown as MarketplaceEntitlementServiceClient;
  let takes = 0;
  const deps: ReadEntitlementsDeps = {
    client,
    limiter: { take: async () => void takes++ },
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    sleep: async () => undefined,
    pageSize: 2,
  };
  return { deps, inputs, takes: () => takes };
}

const entry = (Dimension: string, Value: object, ExpirationDate?: Date) => ({ ProductCode: 'prod-c', Dimension, Value, ...(ExpirationDate ? { ExpirationDate } : {}) });

describe('readEntitlements', () => {
  it('filters by LICENSE_ARN for a license, CUSTOMER_IDENTIFIER or CUSTOMER_AWS_ACCOUNT_ID for a legacy customer', async () => {
    const { deps, inputs } = scripted([{}, {}, {}]);
    await readEntitlements(deps, 'prod-c', LICENSE);
    await readEntitlements(deps, 'prod-c', { kind: 'legacy', productCode: 'prod-c', customerIdentifier: 'cust-1' });
    await readEntitlements(deps, 'prod-c', { kind: 'legacy', productCode: 'prod-c', customerAwsAccountId: '123456789012' });
    expect(inputs.map((i) => i.Filter)).toEqual([{ LICENSE_ARN: [LICENSE.licenseArn] }, { CUSTOMER_IDENTIFIER: ['cust-1'] }, { CUSTOMER_AWS_ACCOUNT_ID: ['123456789012'] }]);
    expect(inputs.every((i) => i.ProductCode === 'prod-c' && i.MaxResults === 2)).toBe(true);
  });

  it('follows every NextToken to the end, through empty pages, each page through the limiter', async () => {
    const expiry = new Date('2027-07-15T10:20:00Z');
    const { deps, inputs, takes } = scripted([
      { Entitlements: [], NextToken: 't1' },
      { Entitlements: [entry('seats', { IntegerValue: 10 }, expiry), entry('ratio', { DoubleValue: 1.5 })], NextToken: 't2' },
      { Entitlements: [], NextToken: 't3' },
      { Entitlements: [entry('tier', { StringValue: 'gold' }), entry('sso', { BooleanValue: true }), entry('other', { IntegerValue: 1 })] },
    ]);
    const read = await readEntitlements(deps, 'prod-c', LICENSE);
    expect(inputs.map((i) => i.NextToken)).toEqual([undefined, 't1', 't2', 't3']);
    expect(takes()).toBe(4);
    expect(read).toEqual([
      { dimension: 'other', value: 1, valueType: 'integer' },
      { dimension: 'ratio', value: 1.5, valueType: 'double' },
      { dimension: 'seats', value: 10, valueType: 'integer', expiresAt: expiry.getTime() },
      { dimension: 'sso', value: true, valueType: 'boolean' },
      { dimension: 'tier', value: 'gold', valueType: 'string' },
    ]);
  });

  it('retries ThrottlingException and InternalServiceErrorException, resuming the page it was on', async () => {
    const { deps, inputs } = scripted([
      { Entitlements: [entry('seats', { IntegerValue: 10 })], NextToken: 't1' },
      awsError('ThrottlingException'),
      awsError('InternalServiceErrorException', 'server'),
      { Entitlements: [entry('tier', { StringValue: 'gold' })] },
    ]);
    const read = await readEntitlements(deps, 'prod-c', LICENSE);
    expect(read.map((e) => e.dimension)).toEqual(['seats', 'tier']);
    expect(inputs.map((i) => i.NextToken)).toEqual([undefined, 't1', 't1', 't1']);
  });

  it('gives up with ERR_METERKIT_ENTITLEMENT_READ after the attempts, and at once on InvalidParameterException', async () => {
    const throttled = scripted([awsError('ThrottlingException'), awsError('ThrottlingException'), awsError('ThrottlingException')]);
    await expect(readEntitlements(throttled.deps, 'prod-c', LICENSE)).rejects.toMatchObject({ code: ErrorCodes.ENTITLEMENT_READ, awsException: 'ThrottlingException' });
    expect(throttled.inputs).toHaveLength(3);
    const invalid = scripted([awsError('InvalidParameterException')]);
    await expect(readEntitlements(invalid.deps, 'prod-c', LICENSE)).rejects.toMatchObject({ code: ErrorCodes.ENTITLEMENT_READ, awsException: 'InvalidParameterException' });
    expect(invalid.inputs).toHaveLength(1);
  });

  it('a product-level identity has no entitlements to read', async () => {
    const { deps } = scripted([]);
    await expect(readEntitlements(deps, 'prod-c', { kind: 'product', productCode: 'prod-c' })).rejects.toMatchObject({ code: ErrorCodes.NOT_A_CONTRACT });
  });
});

describe('createEntitlementClient', () => {
  it('pins us-east-1 whatever the metering region, and uses the aws option endpoint and credentials', async () => {
    const client = createEntitlementClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4599', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await expect(client.config.region()).resolves.toBe('us-east-1');
    const endpoint = await client.config.endpoint!();
    expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).toBe('http://127.0.0.1:4599');
    await expect(client.config.credentials()).resolves.toMatchObject({ accessKeyId: 'a' });
  });

  it('uses the client given', () => {
    const given = createEntitlementClient({});
    expect(createEntitlementClient({ region: 'eu-west-1' }, given)).toBe(given);
  });
});
