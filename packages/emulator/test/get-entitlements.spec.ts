import {
  GetEntitlementsCommand,
  InternalServiceErrorException,
  InvalidParameterException,
  MarketplaceEntitlementServiceServiceException,
  ThrottlingException,
  paginateGetEntitlements,
  type GetEntitlementsRequest,
} from '@aws-sdk/client-marketplace-entitlement-service';
import { startEmulator, type Emulator, type Subscription } from '../src';
import { entitlementClientFor, errorOf } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20);
/** The emulator's clock moves only when a test moves it. */
const frozen = () => 0;

const CONTRACT = { productCode: 'prod-seats', dimensions: ['api_calls'], pricing: 'contract-with-consumption' as const, contractDimensions: ['seats', 'tier', 'sso', 'storage_gb'] };
const LEGACY = { productCode: 'prod-legacy', dimensions: [], identity: 'legacy' as const, pricing: 'contract' as const, contractDimensions: ['seats', 'admins'] };

describe('GetEntitlements over the wire', () => {
  let emu: Emulator;
  const client = () => entitlementClientFor(emu);
  const get = (input: GetEntitlementsRequest) => client().send(new GetEntitlementsCommand(input));
  let a: Subscription;
  let b: Subscription;
  let legacy: Subscription;

  beforeEach(async () => {
    emu = await startEmulator({ now: NOW, timeSource: frozen, products: [CONTRACT, LEGACY, { productCode: 'prod-sub', dimensions: ['d'] }] });
    a = await emu.subscribe({ productCode: 'prod-seats', accountId: '222222222222', contract: { dimensions: { seats: 10, tier: 'gold', sso: true, storage_gb: 1.5 } } });
    b = await emu.subscribe({ productCode: 'prod-seats', accountId: '333333333333', contract: { dimensions: { seats: 3 }, durationMonths: 1 } });
    legacy = await emu.subscribe({ productCode: 'prod-legacy', accountId: '444444444444', contract: { dimensions: { seats: 5, admins: 1 } } });
  });
  afterEach(() => emu.close());

  it('answers a license product by LicenseArn: one Value member per type, ExpirationDate the contract end, no CustomerIdentifier', async () => {
    const out = await get({ ProductCode: 'prod-seats', Filter: { LICENSE_ARN: [a.licenseArn as string] } });
    const end = new Date(Date.UTC(2027, 6, 15, 12, 20));
    expect(a.contract?.expiresAt).toBe(end.getTime());
    expect(out.NextToken).toBeUndefined();
    expect(out.Entitlements).toEqual([
      { ProductCode: 'prod-seats', Dimension: 'seats', CustomerAWSAccountId: '222222222222', LicenseArn: a.licenseArn, Value: { IntegerValue: 10 }, ExpirationDate: end },
      { ProductCode: 'prod-seats', Dimension: 'tier', CustomerAWSAccountId: '222222222222', LicenseArn: a.licenseArn, Value: { StringValue: 'gold' }, ExpirationDate: end },
      { ProductCode: 'prod-seats', Dimension: 'sso', CustomerAWSAccountId: '222222222222', LicenseArn: a.licenseArn, Value: { BooleanValue: true }, ExpirationDate: end },
      { ProductCode: 'prod-seats', Dimension: 'storage_gb', CustomerAWSAccountId: '222222222222', LicenseArn: a.licenseArn, Value: { DoubleValue: 1.5 }, ExpirationDate: end },
    ]);
  });

  it('answers a legacy product with CustomerIdentifier and CustomerAWSAccountId, by either customer key', async () => {
    const byId = await get({ ProductCode: 'prod-legacy', Filter: { CUSTOMER_IDENTIFIER: [legacy.customerIdentifier as string] } });
    expect(byId.Entitlements).toEqual([
      expect.objectContaining({ Dimension: 'seats', CustomerIdentifier: legacy.customerIdentifier, CustomerAWSAccountId: '444444444444', Value: { IntegerValue: 5 } }),
      expect.objectContaining({ Dimension: 'admins', CustomerIdentifier: legacy.customerIdentifier, Value: { IntegerValue: 1 } }),
    ]);
    expect(byId.Entitlements?.[0]).not.toHaveProperty('LicenseArn');
    const byAccount = await get({ ProductCode: 'prod-legacy', Filter: { CUSTOMER_AWS_ACCOUNT_ID: ['444444444444'] } });
    expect(byAccount.Entitlements).toEqual(byId.Entitlements);
  });

  it('filters: values of one key are a union, keys an intersection; no filter is every entitlement of the product', async () => {
    const dims = (out: { Entitlements?: Array<{ Dimension?: string; CustomerAWSAccountId?: string }> }) =>
      (out.Entitlements ?? []).map((e) => `${e.CustomerAWSAccountId}:${e.Dimension}`);
    expect(dims(await get({ ProductCode: 'prod-seats' }))).toEqual([
      '222222222222:seats',
      '222222222222:tier',
      '222222222222:sso',
      '222222222222:storage_gb',
      '333333333333:seats',
    ]);
    expect(dims(await get({ ProductCode: 'prod-seats', Filter: { DIMENSION: ['seats', 'sso'] } }))).toEqual(['222222222222:seats', '222222222222:sso', '333333333333:seats']);
    expect(dims(await get({ ProductCode: 'prod-seats', Filter: { DIMENSION: ['seats', 'sso'], LICENSE_ARN: [b.licenseArn as string] } }))).toEqual([
      '333333333333:seats',
    ]);
    expect(dims(await get({ ProductCode: 'prod-seats', Filter: { CUSTOMER_AWS_ACCOUNT_ID: ['222222222222', '333333333333'], DIMENSION: ['tier'] } }))).toEqual([
      '222222222222:tier',
    ]);
    // A license product's entitlements carry no CustomerIdentifier, so that key matches none of them.
    expect(dims(await get({ ProductCode: 'prod-seats', Filter: { CUSTOMER_IDENTIFIER: [legacy.customerIdentifier as string] } }))).toEqual([]);
  });

  it('answers an unknown product, a subscription product and a filter matching nothing with an empty list', async () => {
    expect((await get({ ProductCode: 'prod-unknown' })).Entitlements).toEqual([]);
    expect((await get({ ProductCode: 'prod-sub' })).Entitlements).toEqual([]);
    expect((await get({ ProductCode: 'prod-seats', Filter: { DIMENSION: ['nope'] } })).Entitlements).toEqual([]);
  });

  it.each<[string, GetEntitlementsRequest]>([
    ['an empty ProductCode', { ProductCode: '' }],
    ['a ProductCode over 255 characters', { ProductCode: 'p'.repeat(256) }],
    ['an unknown filter key', { ProductCode: 'prod-seats', Filter: { PRODUCT_CODE: ['x'] } as never }],
    ['an empty value list', { ProductCode: 'prod-seats', Filter: { DIMENSION: [] } }],
    ['both customer keys', { ProductCode: 'prod-seats', Filter: { CUSTOMER_IDENTIFIER: ['x'], CUSTOMER_AWS_ACCOUNT_ID: ['222222222222'] } }],
    ['MaxResults 0', { ProductCode: 'prod-seats', MaxResults: 0 }],
    ['MaxResults 26', { ProductCode: 'prod-seats', MaxResults: 26 }],
    ['a NextToken the emulator never issued', { ProductCode: 'prod-seats', NextToken: 'bm90LWEtdG9rZW4.AAAAAAAAAAAAAAAAAAAAAA' }],
    ['a blank NextToken', { ProductCode: 'prod-seats', NextToken: ' ' }],
  ])('refuses %s with InvalidParameterException (400)', async (_what, input) => {
    const err = await errorOf(() => get(input));
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(emu.inspect.rejected()).toEqual([expect.objectContaining({ operation: 'GetEntitlements', error: 'InvalidParameterException' })]);
  });

  it('accepts MaxResults 1 and 25, and refuses a NextToken used with another product or filter', async () => {
    const first = await get({ ProductCode: 'prod-seats', MaxResults: 1 });
    expect(first.Entitlements).toHaveLength(1);
    expect(first.NextToken).toEqual(expect.any(String));
    expect((await get({ ProductCode: 'prod-seats', MaxResults: 25 })).Entitlements).toHaveLength(5);
    // The same filter written in another order is the same filter.
    const f1 = await get({ ProductCode: 'prod-seats', MaxResults: 1, Filter: { DIMENSION: ['seats', 'tier'], CUSTOMER_AWS_ACCOUNT_ID: ['222222222222'] } });
    const f2 = await get({ ProductCode: 'prod-seats', MaxResults: 1, NextToken: f1.NextToken, Filter: { CUSTOMER_AWS_ACCOUNT_ID: ['222222222222'], DIMENSION: ['tier', 'seats'] } });
    expect(f2.Entitlements?.map((e) => e.Dimension)).toEqual(['tier']);
    expect(await errorOf(() => get({ ProductCode: 'prod-legacy', NextToken: first.NextToken }))).toBeInstanceOf(InvalidParameterException);
    expect(await errorOf(() => get({ ProductCode: 'prod-seats', NextToken: first.NextToken, Filter: { DIMENSION: ['seats'] } }))).toBeInstanceOf(
      InvalidParameterException,
    );
  });

  describe('pagination', () => {
    beforeEach(async () => {
      // 15 more legacy buyers with 2 dimensions each: 32 entitlements in all.
      for (let i = 0; i < 15; i++) await emu.subscribe({ productCode: 'prod-legacy', contract: { dimensions: { seats: i + 1, admins: 1 } } });
    });
    const collect = async (input: GetEntitlementsRequest, pageSize?: number) => {
      const pages: number[] = [];
      const dims: string[] = [];
      for await (const page of paginateGetEntitlements({ client: client(), ...(pageSize ? { pageSize } : {}) }, input)) {
        pages.push(page.Entitlements?.length ?? 0);
        for (const e of page.Entitlements ?? []) dims.push(`${e.CustomerIdentifier}:${e.Dimension}`);
      }
      return { pages, dims };
    };

    it('pages by 25 by default and by MaxResults, the SDK paginator following NextToken to the end', async () => {
      const all = await collect({ ProductCode: 'prod-legacy' });
      expect(all.pages).toEqual([25, 7]);
      expect(new Set(all.dims).size).toBe(32);
      const by10 = await collect({ ProductCode: 'prod-legacy' }, 10);
      expect(by10.pages).toEqual([10, 10, 10, 2]);
      expect(by10.dims).toEqual(all.dims);
    });

    it('with emptyPages, puts an empty page carrying NextToken before every page, and the paginator still reaches the end', async () => {
      emu.entitlements.configure({ emptyPages: true, pageSize: 10 });
      const plain = await collect({ ProductCode: 'prod-legacy' }, 25);
      expect(plain.pages).toEqual([0, 25, 0, 7]);
      const small = await collect({ ProductCode: 'prod-legacy' });
      expect(small.pages).toEqual([0, 10, 0, 10, 0, 10, 0, 2]);
      expect(small.dims).toEqual(plain.dims);
      const first = await get({ ProductCode: 'prod-legacy' });
      expect(first.Entitlements).toEqual([]);
      expect(first.NextToken).toEqual(expect.any(String));
      // Even an empty result starts with an empty page that carries a token.
      const none = await collect({ ProductCode: 'prod-legacy', Filter: { DIMENSION: ['nope'] } });
      expect(none.pages).toEqual([0, 0]);
    });
  });

  it('throttles above throttlePerSecond per emulated second, and serves again once the second has passed', async () => {
    emu.entitlements.configure({ throttlePerSecond: 3 });
    for (let i = 0; i < 3; i++) await get({ ProductCode: 'prod-seats' });
    const err = await errorOf(() => get({ ProductCode: 'prod-seats' }));
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    emu.clock.advance(999);
    expect(await errorOf(() => get({ ProductCode: 'prod-seats' }))).toBeInstanceOf(ThrottlingException);
    emu.clock.advance(1);
    expect((await get({ ProductCode: 'prod-seats' })).Entitlements).toHaveLength(5);
    expect(emu.inspect.calls('GetEntitlements').map((c) => c.error ?? c.status)).toEqual([200, 200, 200, 'ThrottlingException', 'ThrottlingException', 200]);
  });

  it('throttles at 20 calls per second by default', async () => {
    for (let i = 0; i < 20; i++) await get({ ProductCode: 'prod-seats' });
    expect(await errorOf(() => get({ ProductCode: 'prod-seats' }))).toBeInstanceOf(ThrottlingException);
  });

  it('answers injected faults as the metering operations do', async () => {
    emu.faults.failNext('GetEntitlements', 'ThrottlingException', 2);
    emu.faults.failNext('GetEntitlements', 'InternalServiceErrorException');
    expect(await errorOf(() => get({ ProductCode: 'prod-seats' }))).toBeInstanceOf(ThrottlingException);
    expect(await errorOf(() => get({ ProductCode: 'prod-seats' }))).toBeInstanceOf(ThrottlingException);
    const err = await errorOf(() => get({ ProductCode: 'prod-seats' }));
    expect(err).toBeInstanceOf(InternalServiceErrorException);
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect((await get({ ProductCode: 'prod-seats' })).Entitlements).toHaveLength(5);
    emu.faults.set({ throttleRate: 1 });
    expect(await errorOf(() => get({ ProductCode: 'prod-seats' }))).toBeInstanceOf(ThrottlingException);
  });

  it('is served only in us-east-1: another region finds no endpoint (the connection drops)', async () => {
    const err = await errorOf(() => entitlementClientFor(emu, 'us-west-2').send(new GetEntitlementsCommand({ ProductCode: 'prod-seats' })));
    expect(err).not.toBeInstanceOf(MarketplaceEntitlementServiceServiceException);
    expect(emu.inspect.calls('GetEntitlements')).toEqual([expect.objectContaining({ status: 0, error: 'region-refused' })]);
  });

  it('reflects a change lagMs after it happened on the emulated clock', async () => {
    emu.entitlements.configure({ lagMs: 60_000 });
    await emu.amend(a.licenseArn as string, { dimensions: { seats: 20 } });
    const seats = async () => (await get({ ProductCode: 'prod-seats', Filter: { LICENSE_ARN: [a.licenseArn as string], DIMENSION: ['seats'] } })).Entitlements?.[0]?.Value;
    expect(await seats()).toEqual({ IntegerValue: 10 });
    emu.clock.advance(59_999);
    expect(await seats()).toEqual({ IntegerValue: 10 });
    emu.clock.advance(1);
    expect(await seats()).toEqual({ IntegerValue: 20 });
    // A new contract is not visible before its lag either.
    const c = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 1 } } });
    const ofC = () => get({ ProductCode: 'prod-seats', Filter: { LICENSE_ARN: [c.licenseArn as string] } });
    expect((await ofC()).Entitlements).toEqual([]);
    emu.clock.advance(60_000);
    expect((await ofC()).Entitlements).toHaveLength(1);
    expect(emu.entitlements.list('prod-seats').find((r) => r.licenseArn === c.licenseArn)).toMatchObject({ visibleAt: NOW + 60_000 + 60_000, value: { IntegerValue: 1 } });
  });
});
