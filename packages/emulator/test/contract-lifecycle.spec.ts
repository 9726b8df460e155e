import { GetEntitlementsCommand } from '@aws-sdk/client-marketplace-entitlement-service';
import { BatchMeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, verifySnsNotification, type Emulator, type MarketplaceEvent, type SnsNotification } from '../src';
import { HOUR, clientFor, entitlementClientFor, receiver } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20);
const frozen = () => 0;
const LICENSE = { productCode: 'prod-seats', dimensions: ['api_calls'], pricing: 'contract-with-consumption' as const, contractDimensions: ['seats', 'sso', 'tier'] };
const LEGACY = { productCode: 'prod-legacy', dimensions: [], identity: 'legacy' as const, pricing: 'contract' as const, contractDimensions: ['seats'] };

describe('contract lifecycle', () => {
  let emu: Emulator;
  let sink: Awaited<ReturnType<typeof receiver>>;
  let sns: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    sink = await receiver();
    sns = await receiver();
  });
  afterAll(async () => {
    await sink.close();
    await sns.close();
  });
  beforeEach(async () => {
    sink.received.length = 0;
    sns.received.length = 0;
    emu = await startEmulator({
      now: NOW,
      timeSource: frozen,
      products: [LICENSE, LEGACY, { productCode: 'prod-sub', dimensions: ['d'] }],
      events: { url: sink.url, retryDelayMs: 5 },
      sns: { url: sns.url },
      finalUsageWindowMs: HOUR,
    });
  });
  afterEach(() => emu.close());

  const events = () => sink.received.map((r) => JSON.parse(r.body) as MarketplaceEvent);
  const notes = () => sns.received.map((r) => JSON.parse(r.body) as SnsNotification);
  const read = async (filter: Record<string, string[]>, productCode = 'prod-seats') =>
    (await entitlementClientFor(emu).send(new GetEntitlementsCommand({ ProductCode: productCode, Filter: filter }))).Entitlements ?? [];
  const clear = () => {
    sink.received.length = 0;
    sns.received.length = 0;
  };

  it('refuses a contract product without a contract, a subscription product with one, and contracts the product does not sell', async () => {
    await expect(emu.subscribe({ productCode: 'prod-seats' })).rejects.toThrow(/priced by contract-with-consumption: subscribe with a contract/);
    await expect(emu.subscribe({ productCode: 'prod-sub', contract: { dimensions: { seats: 1 } } })).rejects.toThrow(/priced by subscription/);
    await expect(emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { admins: 1 } } })).rejects.toThrow(/'admins' is not a contract dimension/);
    await expect(emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: -1 } } })).rejects.toThrow(/non-negative/);
    await expect(emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: {} } })).rejects.toThrow(/at least one/);
    await expect(emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 1 }, durationMonths: 61 } })).rejects.toThrow(/1 to 60/);
    expect(() => emu.addProduct({ productCode: 'bad', dimensions: [], pricing: 'contract' })).toThrow(/needs contractDimensions/);
    expect(() => emu.addProduct({ productCode: 'bad', dimensions: [], contractDimensions: ['seats'] })).toThrow(/need pricing/);
    expect(() => emu.addProduct({ productCode: 'bad', dimensions: [], pricing: 'contract-with-consumption', contractDimensions: ['seats'] })).toThrow(/metered dimensions/);
    expect(emu.buyers()).toEqual([]);
  });

  it('amendment raises the values in the same agreement: Amended ×2 and License Updated, then GetEntitlements shows them', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 10, sso: false } } });
    clear();
    await emu.amend(sub.licenseArn as string, { dimensions: { seats: 25, sso: true, tier: 'gold' } });
    expect(events().map((e) => e['detail-type'])).toEqual(['Purchase Agreement Amended - Proposer', 'Purchase Agreement Amended - Manufacturer', 'License Updated - Manufacturer']);
    expect(events()[0].detail).toMatchObject({
      agreement: { id: sub.agreementId, intent: 'AMEND', endTime: '2027-07-15T12:20:00Z', autoRenewalEnabled: false },
    });
    expect(events()[2].detail).toMatchObject({ license: { arn: sub.licenseArn } });
    expect(notes()).toEqual([]);
    expect((await read({ LICENSE_ARN: [sub.licenseArn as string] })).map((e) => [e.Dimension, e.Value])).toEqual([
      ['seats', { IntegerValue: 25 }],
      ['sso', { BooleanValue: true }],
      ['tier', { StringValue: 'gold' }],
    ]);
    expect(emu.buyers()[0].agreementIds).toEqual([sub.agreementId]);
  });

  it('refuses an amendment that lowers a value (nothing changes, no event)', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 10, sso: true } } });
    clear();
    await expect(emu.amend(sub.licenseArn as string, { dimensions: { seats: 9 } })).rejects.toThrow(/seats cannot go down from 10 to 9/);
    await expect(emu.amend(sub.licenseArn as string, { dimensions: { sso: false } })).rejects.toThrow(/sso cannot go down/);
    await expect(emu.amend(sub.licenseArn as string, { dimensions: { seats: 'ten' } })).rejects.toThrow(/cannot become string/);
    expect(events()).toEqual([]);
    expect((await read({ DIMENSION: ['seats'] }))[0].Value).toEqual({ IntegerValue: 10 });
    // The admin route answers 400.
    const res = await fetch(`${emu.endpoint}/_emulator/amend`, { method: 'POST', body: JSON.stringify({ id: sub.licenseArn, dimensions: { seats: 1 } }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/cannot go down/);
  });

  it('a legacy contract product gets the signed SNS entitlement-updated on its entitlement topic at subscribe, amend, renew and cancel', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-legacy', contract: { dimensions: { seats: 5 } } });
    const message = { action: 'entitlement-updated', 'customer-identifier': sub.customerIdentifier, 'product-code': 'prod-legacy' };
    const topic = 'arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-prod-legacy';
    expect(notes().map((n) => [n.TopicArn, JSON.parse(n.Message)])).toEqual([
      ['arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prod-legacy', expect.objectContaining({ action: 'subscribe-success' })],
      [topic, message],
    ]);
    const cert = await (await fetch(notes()[1].SigningCertURL)).text();
    expect(verifySnsNotification(notes()[1], cert)).toBe(true);
    expect(sns.received[1].headers['x-amz-sns-topic-arn']).toBe(topic);

    clear();
    await emu.amend(sub.customerIdentifier as string, { dimensions: { seats: 8 } });
    expect(events().map((e) => e['detail-type'])).toEqual(['Purchase Agreement Amended - Proposer', 'Purchase Agreement Amended - Manufacturer']);
    expect(notes().map((n) => [n.TopicArn, JSON.parse(n.Message)])).toEqual([[topic, message]]);
    expect((await read({ CUSTOMER_IDENTIFIER: [sub.customerIdentifier as string] }, 'prod-legacy'))[0].Value).toEqual({ IntegerValue: 8 });

    clear();
    await emu.renew(sub.customerIdentifier as string);
    expect(notes().map((n) => JSON.parse(n.Message).action)).toEqual(['entitlement-updated']);
    clear();
    await emu.cancel(sub.customerIdentifier as string);
    expect(notes().map((n) => JSON.parse(n.Message).action)).toEqual(['unsubscribe-pending', 'entitlement-updated']);
    expect(await read({ CUSTOMER_IDENTIFIER: [sub.customerIdentifier as string] }, 'prod-legacy')).toEqual([]);
  });

  it('renewal keeps the values with a new agreement and a later expiry; a renewal may change the values', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 10 }, durationMonths: 12 } });
    clear();
    const renewed = await emu.renew(sub.licenseArn as string);
    expect(renewed.agreementId).not.toBe(sub.agreementId);
    expect(renewed.licenseArn).toBe(sub.licenseArn);
    expect(renewed.contract).toMatchObject({ startsAt: Date.UTC(2027, 6, 15, 12, 20), expiresAt: Date.UTC(2028, 6, 15, 12, 20), status: 'active' });
    expect(events().map((e) => e['detail-type'])).toEqual(['Purchase Agreement Created - Proposer', 'Purchase Agreement Created - Manufacturer', 'License Updated - Manufacturer']);
    expect(events()[0].detail).toMatchObject({ agreement: { id: renewed.agreementId, intent: 'RENEW', previousAgreementId: sub.agreementId, endTime: '2028-07-15T12:20:00Z' } });
    const [seats] = await read({ LICENSE_ARN: [sub.licenseArn as string] });
    expect(seats).toMatchObject({ Value: { IntegerValue: 10 }, ExpirationDate: new Date(Date.UTC(2028, 6, 15, 12, 20)) });
    await emu.renew(sub.licenseArn as string, { dimensions: { seats: 4 } });
    expect((await read({ LICENSE_ARN: [sub.licenseArn as string] }))[0].Value).toEqual({ IntegerValue: 4 });
  });

  it('cancel and expire end the contract: Ended and License Deprovisioned, nothing from GetEntitlements, metering only in the final-usage window', async () => {
    const a = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 10 } } });
    const b = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 3 } } });
    const meter = (sub: typeof a, hour: number) =>
      clientFor(emu).send(
        new BatchMeterUsageCommand({
          UsageRecords: [{ Timestamp: new Date(hour), Dimension: 'api_calls', Quantity: 1, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn }],
        }),
      );
    expect((await meter(a, NOW - HOUR)).Results?.[0].Status).toBe('Success');
    clear();
    await emu.cancel(a.licenseArn as string);
    await emu.expire(b.licenseArn as string);
    expect(events().map((e) => [e['detail-type'], (e.detail.agreement as { status?: string }).status])).toEqual([
      ['Purchase Agreement Ended - Proposer', 'CANCELLED'],
      ['Purchase Agreement Ended - Manufacturer', 'CANCELLED'],
      ['License Deprovisioned - Manufacturer', undefined],
      ['Purchase Agreement Ended - Proposer', 'EXPIRED'],
      ['Purchase Agreement Ended - Manufacturer', 'EXPIRED'],
      ['License Deprovisioned - Manufacturer', undefined],
    ]);
    expect(await read({})).toEqual([]);
    expect(emu.entitlements.list().map((r) => r.contractStatus)).toEqual(['cancelled', 'expired']);
    // The final-usage window: the hour of the end is still accepted for an hour, then nothing.
    expect((await meter(b, NOW)).Results?.[0].Status).toBe('Success');
    emu.clock.advance(HOUR);
    expect((await meter(a, NOW)).Results?.[0].Status).toBe('CustomerNotSubscribed');
    await expect(emu.expire(b.licenseArn as string)).resolves.toBeUndefined();
    const sub = await emu.subscribe({ productCode: 'prod-sub' });
    await expect(emu.expire(sub.licenseArn as string)).rejects.toThrow(/no contract/);
  });

  it('at the end of its term a contract expires on the emulated clock, or renews when the buyer opted into auto-renewal', async () => {
    const once = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 1 }, durationMonths: 1 } });
    const auto = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 2 }, durationMonths: 1, autoRenew: true } });
    clear();
    emu.clock.set(Date.UTC(2026, 7, 15, 12, 19, 59));
    await emu.idle();
    expect(events()).toEqual([]);
    expect((await read({})).map((e) => e.Value?.IntegerValue)).toEqual([1, 2]);
    emu.clock.set(Date.UTC(2026, 8, 20));
    await emu.idle();
    // `once` ended at its term's end (2026-08-15 12:20); `auto` renewed twice (to 09-15, then 10-15).
    const rows = await read({});
    expect(rows).toEqual([expect.objectContaining({ LicenseArn: auto.licenseArn, Value: { IntegerValue: 2 }, ExpirationDate: new Date(Date.UTC(2026, 9, 15, 12, 20)) })]);
    expect(emu.buyers().find((x) => x.licenseArn === once.licenseArn)).toMatchObject({ status: 'deprovisioned', deprovisionedAt: Date.UTC(2026, 7, 15, 12, 20) });
    expect(emu.buyers().find((x) => x.licenseArn === auto.licenseArn)?.agreementIds).toHaveLength(3);
    expect(events().map((e) => e['detail-type'])).toEqual([
      'Purchase Agreement Ended - Proposer',
      'Purchase Agreement Ended - Manufacturer',
      'License Deprovisioned - Manufacturer',
      'Purchase Agreement Created - Proposer',
      'Purchase Agreement Created - Manufacturer',
      'License Updated - Manufacturer',
      'Purchase Agreement Created - Proposer',
      'Purchase Agreement Created - Manufacturer',
      'License Updated - Manufacturer',
    ]);
  });

  it('metering: a pure contract has no metered dimension; a consumption buyer is metered while its contract is active, then only in the final-usage window', async () => {
    const flat = await emu.subscribe({ productCode: 'prod-legacy', contract: { dimensions: { seats: 5 } } });
    const flatOut = clientFor(emu).send(
      new BatchMeterUsageCommand({ ProductCode: 'prod-legacy', UsageRecords: [{ Timestamp: new Date(NOW), Dimension: 'seats', Quantity: 1, CustomerIdentifier: flat.customerIdentifier }] }),
    );
    await expect(flatOut).rejects.toMatchObject({ name: 'InvalidUsageDimensionException' });

    const sub = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 1 }, durationMonths: 1 } });
    const end = Date.UTC(2026, 7, 15, 12, 20);
    const meter = (t: number) =>
      clientFor(emu).send(
        new BatchMeterUsageCommand({ UsageRecords: [{ Timestamp: new Date(t), Dimension: 'api_calls', Quantity: 2, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn }] }),
      );
    emu.clock.set(end - 10 * 60_000);
    expect((await meter(end - 70 * 60_000)).Results?.[0].Status).toBe('Success');
    emu.clock.set(end + 30 * 60_000); // the term ended 30 minutes ago: the hour of its end is still accepted
    await emu.idle();
    expect((await meter(end)).Results?.[0].Status).toBe('Success');
    emu.clock.set(end + HOUR);
    expect((await meter(end - 5 * 60_000)).Results?.[0].Status).toBe('CustomerNotSubscribed');
    expect(emu.inspect.totalFor({ licenseArn: sub.licenseArn })).toBe(4);
  });

  it('a replacement moves the contract to the new license with a fresh term; the old license reads nothing', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 7 } } });
    emu.clock.advance(HOUR);
    const next = await emu.replace(sub.licenseArn as string);
    expect(next.contract).toMatchObject({ dimensions: { seats: 7 }, startsAt: NOW + HOUR, status: 'active' });
    expect(await read({ LICENSE_ARN: [sub.licenseArn as string] })).toEqual([]);
    expect((await read({ LICENSE_ARN: [next.licenseArn as string] }))[0].Value).toEqual({ IntegerValue: 7 });
  });

  it('lists entitlements and settings through the admin API', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-seats', contract: { dimensions: { seats: 10 } } });
    const list = (await (await fetch(`${emu.endpoint}/_emulator/entitlements?productCode=prod-seats`)).json()) as unknown[];
    expect(list).toEqual([
      {
        productCode: 'prod-seats',
        dimension: 'seats',
        customerAWSAccountId: sub.accountId,
        licenseArn: sub.licenseArn,
        agreementId: sub.agreementId,
        value: { IntegerValue: 10 },
        expirationDate: Date.UTC(2027, 6, 15, 12, 20),
        contractStatus: 'active',
        visibleAt: NOW,
      },
    ]);
    const post = (body: unknown) => fetch(`${emu.endpoint}/_emulator/entitlements/settings`, { method: 'POST', body: JSON.stringify(body) });
    expect(await (await post({ pageSize: 5, emptyPages: true, lagMs: 1000 })).json()).toEqual({ pageSize: 5, emptyPages: true, lagMs: 1000, throttlePerSecond: 20 });
    expect((await post({ pageSize: 26 })).status).toBe(400);
    expect((await post({ nope: 1 })).status).toBe(400);
    expect(await (await fetch(`${emu.endpoint}/_emulator/entitlements/settings`)).json()).toEqual({ pageSize: 5, emptyPages: true, lagMs: 1000, throttlePerSecond: 20 });
    emu.reset();
    expect(emu.entitlements.settings()).toEqual({ pageSize: 25, emptyPages: false, lagMs: 0, throttlePerSecond: 20 });
    const expire = await fetch(`${emu.endpoint}/_emulator/expire`, { method: 'POST', body: JSON.stringify({ id: sub.licenseArn }) });
    expect(expire.status).toBe(200);
    expect(emu.entitlements.list()[0].contractStatus).toBe('expired');
  });

  it('validates the entitlements start option', async () => {
    await expect(startEmulator({ entitlements: { throttlePerSecond: 0 } })).rejects.toThrow(/throttlePerSecond/);
    await expect(startEmulator({ entitlements: { lagMs: -1 } })).rejects.toThrow(/lagMs/);
  });
});
