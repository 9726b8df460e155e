import { BatchMeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, verifySnsNotification, type Emulator, type MarketplaceEvent, type SnsNotification } from '../src';
import { HOUR, clientFor, receiver } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20);

describe('EventBridge lifecycle events', () => {
  let emu: Emulator;
  let sink: Awaited<ReturnType<typeof receiver>>;
  let status = 200;
  beforeAll(async () => {
    sink = await receiver(() => ({ status }));
    emu = await startEmulator({
      now: NOW,
      products: [{ productCode: 'prod-new', dimensions: ['api_calls'] }],
      events: { url: `${sink.url}/events`, headerName: 'x-meterkit-secret', headerValue: 's3cret', retryDelayMs: 5 },
      finalUsageWindowMs: HOUR,
    });
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });
  beforeEach(() => {
    sink.received.length = 0;
    status = 200;
    emu.reset();
    emu.clock.set(NOW);
  });
  const events = () => sink.received.map((r) => JSON.parse(r.body) as MarketplaceEvent);

  it('subscribe sends Purchase Agreement Created (Proposer, Manufacturer) and License Updated with the connection header', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-new', accountId: '222222222222' });
    const evs = events();
    expect(evs.map((e) => e['detail-type'])).toEqual([
      'Purchase Agreement Created - Proposer',
      'Purchase Agreement Created - Manufacturer',
      'License Updated - Manufacturer',
    ]);
    for (const r of sink.received) {
      expect(r.headers['x-meterkit-secret']).toBe('s3cret');
      expect(r.headers['content-type']).toMatch(/^application\/json/);
    }
    expect(new Set(evs.map((e) => e.id)).size).toBe(3);
    expect(evs[0]).toMatchObject({
      version: '0',
      source: 'aws.agreement-marketplace',
      account: '111111111111',
      region: 'us-east-1',
      time: '2026-07-15T12:20:00Z',
      resources: [`arn:aws:aws-marketplace::aws:agreement:${sub.agreementId}`],
      detail: {
        agreement: { id: sub.agreementId, intent: 'NEW', status: 'ACTIVE' },
        acceptor: { accountId: '222222222222' },
        proposer: { accountId: '111111111111' },
        offer: { id: expect.stringMatching(/^offer-/) },
      },
    });
    expect(evs[0].detail).not.toHaveProperty('license');
    expect(evs[2].detail).toMatchObject({ agreement: { id: sub.agreementId }, product: { code: 'prod-new' }, license: { arn: sub.licenseArn } });
    expect(emu.inspect.events()).toEqual(evs.map((e) => expect.objectContaining({ id: e.id, detailType: e['detail-type'], status: 200, attempts: 1 })));
  });

  it('cancel sends Purchase Agreement Ended and License Deprovisioned, then accepts final usage for an hour only', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-new' });
    sink.received.length = 0;
    await emu.cancel(sub.licenseArn as string);
    const evs = events();
    expect(evs.map((e) => e['detail-type'])).toEqual([
      'Purchase Agreement Ended - Proposer',
      'Purchase Agreement Ended - Manufacturer',
      'License Deprovisioned - Manufacturer',
    ]);
    expect(evs[0].detail).toMatchObject({ agreement: { id: sub.agreementId, status: 'CANCELLED' } });
    expect(evs[2].detail).toMatchObject({ license: { arn: sub.licenseArn }, product: { code: 'prod-new' } });

    const client = clientFor(emu);
    const rec = (h: number, q = 1) => ({ Timestamp: new Date(Date.UTC(2026, 6, 15, h)), Dimension: 'api_calls', Quantity: q, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn });
    emu.clock.advance(45 * 60_000); // 13:05, 45 minutes after License Deprovisioned
    const inWindow = await client.send(new BatchMeterUsageCommand({ UsageRecords: [rec(11), rec(12)] }));
    expect(inWindow.Results?.map((r) => r.Status)).toEqual(['Success', 'Success']);
    const later = await client.send(new BatchMeterUsageCommand({ UsageRecords: [rec(13)] }));
    expect(later.Results?.[0].Status).toBe('CustomerNotSubscribed'); // an hour after the license ended
    emu.clock.advance(16 * 60_000); // 13:21: the final-usage hour is over
    const after = await client.send(new BatchMeterUsageCommand({ UsageRecords: [rec(10, 2)] }));
    expect(after.Results?.[0].Status).toBe('CustomerNotSubscribed');
    expect(after.Results?.[0].MeteringRecordId).toBeUndefined();
    expect(emu.inspect.totalFor({ licenseArn: sub.licenseArn })).toBe(2);
  });

  it('renew sends Created with intent RENEW and previousAgreementId and keeps the license', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-new' });
    sink.received.length = 0;
    const renewed = await emu.renew(sub.agreementId);
    expect(renewed.licenseArn).toBe(sub.licenseArn);
    expect(renewed.agreementId).not.toBe(sub.agreementId);
    const evs = events();
    expect(evs.map((e) => e['detail-type'])).toEqual(['Purchase Agreement Created - Proposer', 'Purchase Agreement Created - Manufacturer', 'License Updated - Manufacturer']);
    expect(evs[1].detail).toMatchObject({ agreement: { id: renewed.agreementId, intent: 'RENEW', previousAgreementId: sub.agreementId }, product: { id: expect.stringMatching(/^prod-/) } });
    // the old agreement id still finds the buyer
    await emu.cancel(sub.agreementId);
    expect(emu.buyers().find((b) => b.licenseArn === sub.licenseArn)?.status).toBe('deprovisioned');
  });

  it('replace creates a new agreement and license, ends the old agreement REPLACED and deprovisions the old license', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-new', accountId: '444444444444' });
    sink.received.length = 0;
    const next = await emu.replace(sub.licenseArn as string);
    expect(next.licenseArn).not.toBe(sub.licenseArn);
    expect(next.accountId).toBe('444444444444');
    const evs = events();
    expect(evs.map((e) => e['detail-type'])).toEqual([
      'Purchase Agreement Created - Proposer',
      'Purchase Agreement Created - Manufacturer',
      'License Updated - Manufacturer',
      'Purchase Agreement Ended - Proposer',
      'Purchase Agreement Ended - Manufacturer',
      'License Deprovisioned - Manufacturer',
    ]);
    expect(evs[0].detail).toMatchObject({ agreement: { intent: 'REPLACE', previousAgreementId: sub.agreementId } });
    expect(evs[3].detail).toMatchObject({ agreement: { id: sub.agreementId, status: 'REPLACED' } });
    expect(evs[5].detail).toMatchObject({ license: { arn: sub.licenseArn } });
  });

  it('amend sends Purchase Agreement Amended and License Updated', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-new' });
    sink.received.length = 0;
    await emu.amend(sub.agreementId);
    const evs = events();
    expect(evs.map((e) => e['detail-type'])).toEqual(['Purchase Agreement Amended - Proposer', 'Purchase Agreement Amended - Manufacturer', 'License Updated - Manufacturer']);
    expect(evs[0].detail).toMatchObject({ agreement: { intent: 'AMEND', autoRenewalEnabled: true }, renewalSummary: { disabledBy: null } });
  });

  it('retries 5xx answers, not 4xx, and records each outcome', async () => {
    status = 503;
    await emu.subscribe({ productCode: 'prod-new' });
    expect(sink.received).toHaveLength(3 * 4); // 3 events x (1 + 3 retries)
    expect(emu.inspect.events().map((e) => [e.status, e.attempts])).toEqual([
      [503, 4],
      [503, 4],
      [503, 4],
    ]);
    emu.reset();
    sink.received.length = 0;
    status = 401;
    await emu.subscribe({ productCode: 'prod-new' });
    expect(sink.received).toHaveLength(3);
    expect(emu.inspect.events().every((e) => e.status === 401 && e.attempts === 1)).toBe(true);
  });
});

describe('event delivery to an unreachable target', () => {
  it('records network errors after retrying', async () => {
    const dead = await receiver();
    const url = dead.url;
    await dead.close();
    const emu = await startEmulator({ products: [{ productCode: 'p', dimensions: ['d'] }], events: { url, retries: 1, retryDelayMs: 1 } });
    try {
      await emu.subscribe({ productCode: 'p' });
      const rows = emu.inspect.events();
      expect(rows).toHaveLength(3);
      expect(rows[0]).toMatchObject({ status: 'error', attempts: 2, error: expect.any(String) });
    } finally {
      await emu.close();
    }
  });
});

describe('legacy SNS notifications', () => {
  let emu: Emulator;
  let sns: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    sns = await receiver();
    emu = await startEmulator({ now: NOW, sellerAccountId: '123456789012', products: [{ productCode: 'prod-old', dimensions: ['seats'], identity: 'legacy' }], sns: { url: sns.url } });
  });
  afterAll(async () => {
    await emu.close();
    await sns.close();
  });
  beforeEach(() => {
    sns.received.length = 0;
  });
  const notes = () => sns.received.map((r) => JSON.parse(r.body) as SnsNotification);

  it('names the topic account given in sns.topicAccountId', async () => {
    const other = await startEmulator({ now: NOW, products: [{ productCode: 'prod-old', dimensions: ['seats'], identity: 'legacy' }], sns: { url: sns.url, topicAccountId: '210987654321' } });
    try {
      await other.subscribe({ productCode: 'prod-old' });
      expect(notes().map((n) => n.TopicArn)).toEqual(['arn:aws:sns:us-east-1:210987654321:aws-mp-subscription-notification-prod-old']);
    } finally {
      await other.close();
    }
  });

  it('sends signed subscribe-success that verifies with the certificate served at SigningCertURL', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-old', offerType: 'free-trial' });
    const [n] = notes();
    expect(n).toMatchObject({
      Type: 'Notification',
      // AWS Marketplace's own account owns the topics, not the seller (123456789012 here).
      TopicArn: 'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-prod-old',
      SignatureVersion: '2',
      SigningCertURL: `${emu.endpoint}/_emulator/sns/cert.pem`,
    });
    expect(JSON.parse(n.Message)).toEqual({
      action: 'subscribe-success',
      'customer-identifier': sub.customerIdentifier,
      'product-code': 'prod-old',
      'offer-identifier': expect.stringMatching(/^offer-/),
      isFreeTrialTermPresent: 'true',
    });
    expect(sns.received[0].headers['x-amz-sns-message-type']).toBe('Notification');
    const cert = await (await fetch(n.SigningCertURL)).text();
    expect(cert).toMatch(/BEGIN CERTIFICATE/);
    expect(verifySnsNotification(n, cert)).toBe(true);
    expect(verifySnsNotification({ ...n, Message: n.Message.replace('success', 'fail') }, cert)).toBe(false);
  });

  it('keeps the customer identifier when the same account subscribes again, and meters the new subscription', async () => {
    const first = await emu.subscribe({ productCode: 'prod-old', accountId: '555555555555' });
    await emu.cancel(first.customerIdentifier as string);
    emu.clock.advance(2 * HOUR);
    const actions = () => notes().map((n) => JSON.parse(n.Message).action);
    for (let i = 0; i < 50 && !actions().includes('unsubscribe-success'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(actions()).toContain('unsubscribe-success');
    const again = await emu.subscribe({ productCode: 'prod-old', accountId: '555555555555' });
    expect(again.customerIdentifier).toBe(first.customerIdentifier);
    const out = await clientFor(emu).send(
      new BatchMeterUsageCommand({ ProductCode: 'prod-old', UsageRecords: [{ Timestamp: new Date(emu.clock.now() - HOUR), Dimension: 'seats', Quantity: 1, CustomerIdentifier: again.customerIdentifier }] }),
    );
    expect(out.Results?.[0].Status).toBe('Success');
  });

  it('sends subscribe-fail for a failed payment, and the customer is not metered', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-old', fail: true });
    expect(JSON.parse(notes()[0].Message).action).toBe('subscribe-fail');
    const out = await clientFor(emu).send(
      new BatchMeterUsageCommand({ ProductCode: 'prod-old', UsageRecords: [{ Timestamp: new Date(NOW - HOUR), Dimension: 'seats', Quantity: 1, CustomerIdentifier: sub.customerIdentifier }] }),
    );
    expect(out.Results?.[0].Status).toBe('CustomerNotSubscribed');
  });

  it('sends unsubscribe-pending on cancel and unsubscribe-success once the final-usage hour has passed', async () => {
    const sub = await emu.subscribe({ productCode: 'prod-old' });
    sns.received.length = 0;
    await emu.cancel(sub.customerIdentifier as string);
    expect(notes().map((n) => JSON.parse(n.Message).action)).toEqual(['unsubscribe-pending']);
    emu.clock.advance(HOUR);
    for (let i = 0; i < 50 && sns.received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(notes().map((n) => JSON.parse(n.Message).action)).toEqual(['unsubscribe-pending', 'unsubscribe-success']);
    expect(emu.inspect.events().map((e) => e.detailType)).toContain('SNS unsubscribe-success');
  });
});
