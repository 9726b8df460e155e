import {
  DescribeAgreementCommand,
  GetAgreementEntitlementsCommand,
  GetAgreementTermsCommand,
  ResourceNotFoundException,
  SearchAgreementsCommand,
  ThrottlingException,
  ValidationException,
  InternalServerException,
  type Filter,
} from '@aws-sdk/client-marketplace-agreement';
import { startEmulator, type Emulator, type Subscription } from '../src';
import { agreementClientFor, errorOf } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20);
const at = (ms: number) => new Date(ms);

describe('Agreement API subset (AWS JSON 1.0)', () => {
  let emu: Emulator;
  let sub: Subscription;
  let payg: Subscription;
  let legacy: Subscription;
  const client = () => agreementClientFor(emu);

  beforeEach(async () => {
    emu = await startEmulator({
      now: NOW,
      timeSource: () => 0,
      sellerAccountId: '123456789012',
      products: [
        { productCode: 'prod-seats', dimensions: ['api_calls', 'gb'], pricing: 'contract-with-consumption', contractDimensions: ['seats', 'sso', 'tier', 'admins'] },
        { productCode: 'prod-legacy', dimensions: [], identity: 'legacy', pricing: 'contract', contractDimensions: ['seats'] },
        { productCode: 'prod-sub', dimensions: ['d'] },
      ],
    });
    sub = await emu.subscribe({ productCode: 'prod-seats', accountId: '222222222222', contract: { dimensions: { seats: 10, sso: true, tier: 'gold', admins: 2.5 }, durationMonths: 24, autoRenew: true } });
    payg = await emu.subscribe({ productCode: 'prod-sub', accountId: '333333333333' });
    legacy = await emu.subscribe({ productCode: 'prod-legacy', accountId: '222222222222', contract: { dimensions: { seats: 1 } } });
  });
  afterEach(() => emu.close());

  it('DescribeAgreement: parties, dates in the contract term, status, product and offer, the chain start', async () => {
    const out = await client().send(new DescribeAgreementCommand({ agreementId: sub.agreementId }));
    expect(out).toMatchObject({
      agreementId: sub.agreementId,
      acceptor: { accountId: '222222222222' },
      proposer: { accountId: '123456789012' },
      startTime: at(NOW),
      endTime: at(Date.UTC(2028, 6, 15, 12, 20)),
      acceptanceTime: at(NOW),
      agreementType: 'PurchaseAgreement',
      proposalSummary: { resources: [{ id: expect.stringMatching(/^prod-/), type: 'SaaSProduct' }], offerId: expect.stringMatching(/^offer-/) },
      status: 'ACTIVE',
      initialAgreementId: sub.agreementId,
      endTimeBehavior: { type: 'RENEW' },
    });
  });

  it("GetAgreementTerms: the contract's values in configurableUpfrontPricingTerm (amendments included), metered dimensions in usageBasedPricingTerm", async () => {
    await emu.amend(sub.licenseArn as string, { dimensions: { seats: 12 } });
    const out = await client().send(new GetAgreementTermsCommand({ agreementId: sub.agreementId }));
    const terms = out.acceptedTerms ?? [];
    const upfront = terms.find((t) => t.configurableUpfrontPricingTerm)?.configurableUpfrontPricingTerm;
    expect(upfront).toMatchObject({
      type: 'ConfigurableUpfrontPricingTerm',
      currencyCode: 'USD',
      rateCards: [{ selector: { type: 'Duration', value: 'P24M' }, rateCard: ['seats', 'sso', 'tier', 'admins'].map((dimensionKey) => ({ dimensionKey })) }],
      configuration: {
        selectorValue: 'P24M',
        dimensions: [
          { dimensionKey: 'seats', dimensionValue: 12 },
          { dimensionKey: 'sso', dimensionValue: 1 },
          { dimensionKey: 'tier', dimensionValue: 1 },
          { dimensionKey: 'admins', dimensionValue: 2.5 },
        ],
      },
    });
    expect(terms.find((t) => t.usageBasedPricingTerm)?.usageBasedPricingTerm).toMatchObject({
      type: 'UsageBasedPricingTerm',
      rateCards: [{ rateCard: [{ dimensionKey: 'api_calls' }, { dimensionKey: 'gb' }] }],
    });
    expect(terms.find((t) => t.renewalTerm)?.renewalTerm).toMatchObject({ configuration: { enableAutoRenew: true } });
    expect(terms.find((t) => t.validityTerm)?.validityTerm).toMatchObject({ agreementDuration: 'P24M', agreementStartDate: at(NOW), agreementEndDate: at(Date.UTC(2028, 6, 15, 12, 20)) });
    // A pure contract has no usage-based term; a subscription only has one.
    const pure = await client().send(new GetAgreementTermsCommand({ agreementId: legacy.agreementId }));
    expect(pure.acceptedTerms?.some((t) => t.usageBasedPricingTerm)).toBe(false);
    const subscription = await client().send(new GetAgreementTermsCommand({ agreementId: payg.agreementId }));
    expect(subscription.acceptedTerms?.map((t) => Object.keys(t).filter((k) => (t as unknown as Record<string, unknown>)[k] !== undefined)[0])).toEqual([
      'usageBasedPricingTerm',
      'validityTerm',
    ]);
    // Pages by maxResults.
    const first = await client().send(new GetAgreementTermsCommand({ agreementId: sub.agreementId, maxResults: 2 }));
    const rest = await client().send(new GetAgreementTermsCommand({ agreementId: sub.agreementId, maxResults: 2, nextToken: first.nextToken }));
    expect([...(first.acceptedTerms ?? []), ...(rest.acceptedTerms ?? [])]).toEqual(terms);
    expect(rest.nextToken).toBeUndefined();
  });

  it('GetAgreementEntitlements: the license and its provisioning state, never quantities', async () => {
    const out = await client().send(new GetAgreementEntitlementsCommand({ agreementId: sub.agreementId }));
    expect(out.agreementEntitlements).toEqual([
      { resource: { id: expect.stringMatching(/^prod-/), type: 'SaaSProduct' }, type: 'License', status: 'PROVISIONED', statusReasonCode: 'AGREEMENT_ACTIVE', licenseArn: sub.licenseArn },
    ]);
    await emu.cancel(sub.licenseArn as string);
    const after = await client().send(new GetAgreementEntitlementsCommand({ agreementId: sub.agreementId }));
    expect(after.agreementEntitlements?.[0]).toMatchObject({ status: 'DEPROVISIONED', statusReasonCode: 'AGREEMENT_INACTIVE' });
    expect((await client().send(new DescribeAgreementCommand({ agreementId: sub.agreementId }))).status).toBe('CANCELLED');
  });

  it('SearchAgreements: by LicenseArn and by AcceptorAccountId; a renewal chain keeps its initial agreement', async () => {
    const search = async (...filters: Filter[]) =>
      (await client().send(new SearchAgreementsCommand({ catalog: 'AWSMarketplace', filters: [{ name: 'AgreementType', values: ['PurchaseAgreement'] }, ...filters] })))
        .agreementViewSummaries ?? [];
    expect((await search({ name: 'LicenseArn', values: [sub.licenseArn as string] })).map((s) => s.agreementId)).toEqual([sub.agreementId]);
    expect((await search({ name: 'AcceptorAccountId', values: ['222222222222'] })).map((s) => s.agreementId)).toEqual([sub.agreementId, legacy.agreementId]);
    expect(await search({ name: 'AcceptorAccountId', values: ['999999999999'] })).toEqual([]);
    const renewed = await emu.renew(sub.licenseArn as string);
    const chain = await search({ name: 'LicenseArn', values: [sub.licenseArn as string] });
    expect(chain.map((s) => [s.agreementId, s.status, s.initialAgreementId])).toEqual([
      [sub.agreementId, 'RENEWED', sub.agreementId],
      [renewed.agreementId, 'ACTIVE', sub.agreementId],
    ]);
    expect(chain[1]).toMatchObject({ entitlements: [{ licenseArn: sub.licenseArn }], acceptor: { accountId: '222222222222' }, proposer: { accountId: '123456789012' }, endTimeBehaviorType: 'RENEW' });
    expect((await search({ name: 'LicenseArn', values: [sub.licenseArn as string] }, { name: 'Status', values: ['ACTIVE'] })).map((s) => s.agreementId)).toEqual([
      renewed.agreementId,
    ]);
  });

  it('unknown agreement → ResourceNotFoundException (404); bad input → ValidationException (400)', async () => {
    const missing = await errorOf(() => client().send(new DescribeAgreementCommand({ agreementId: 'agmt-doesnotexist' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.$metadata?.httpStatusCode).toBe(404);
    expect(missing).toMatchObject({ resourceId: 'agmt-doesnotexist', resourceType: 'Agreement' });
    expect(await errorOf(() => client().send(new GetAgreementTermsCommand({ agreementId: 'agmt-nope' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(() => client().send(new GetAgreementEntitlementsCommand({ agreementId: 'agmt-nope' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(() => client().send(new DescribeAgreementCommand({ agreementId: 'not valid!' })))).toBeInstanceOf(ValidationException);
    expect(await errorOf(() => client().send(new GetAgreementTermsCommand({ agreementId: sub.agreementId, maxResults: 51 })))).toBeInstanceOf(ValidationException);
    expect(await errorOf(() => client().send(new SearchAgreementsCommand({ filters: [{ name: 'LicenseArn', values: ['x'] }] })))).toBeInstanceOf(ValidationException);
    expect(
      await errorOf(() => client().send(new SearchAgreementsCommand({ filters: [{ name: 'AgreementType', values: ['PurchaseAgreement'] }, { name: 'Nope', values: ['x'] }] }))),
    ).toBeInstanceOf(ValidationException);
  });

  it('faults use the Agreement API names and statuses; other regions find no endpoint', async () => {
    emu.faults.failNext('DescribeAgreement', 'ThrottlingException');
    emu.faults.failNext('DescribeAgreement', 'InternalServiceErrorException');
    const throttled = await errorOf(() => client().send(new DescribeAgreementCommand({ agreementId: sub.agreementId })));
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    const failed = await errorOf(() => client().send(new DescribeAgreementCommand({ agreementId: sub.agreementId })));
    expect(failed).toBeInstanceOf(InternalServerException);
    expect(failed.$metadata?.httpStatusCode).toBe(500);
    const elsewhere = await errorOf(() => agreementClientFor(emu, 'eu-west-1').send(new DescribeAgreementCommand({ agreementId: sub.agreementId })));
    expect(elsewhere.name).not.toMatch(/Exception$/);
    expect(emu.inspect.calls('DescribeAgreement').map((c) => c.error)).toEqual(['ThrottlingException', 'InternalServerException', 'region-refused']);
  });
});
