import { createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLifecycleHandler, ErrorCodes, LifecycleReceiver, snsStringToSign, type Metering, type SnsMessage } from '../src';
import { licenseEvent } from './support/license-event';
import { CONTRACT, LEGACY_CONTRACT, nextChange, SECRET, startContractsWorld, valueOf, type ContractsWorld } from './contracts-world';

jest.setTimeout(60_000);

// The emulator's SNS signing key stands in for SNS's: its certificate is served by the emulator.
const SNS_KEY = readFileSync(path.join(__dirname, '..', '..', 'emulator', 'certs', 'sns-signing-key.pem'), 'utf8');
const MARKETPLACE_ACCOUNT = '287250355862';
const entitlementTopic = (productCode: string, account = MARKETPLACE_ACCOUNT) => `arn:aws:sns:us-east-1:${account}:aws-mp-entitlement-notification-${productCode}`;

describe('contract change signals through the lifecycle route', () => {
  let world: ContractsWorld;
  let metering: Metering;
  let receiver: LifecycleReceiver;
  afterEach(() => world.close());

  beforeEach(async () => {
    world = await startContractsWorld();
    metering = world.instances[0]!;
    receiver = new LifecycleReceiver(metering, { path: '/events', secret: SECRET, sns: { trustCertificateUrl: (url) => url.hostname === '127.0.0.1' } });
  });

  function sns(message: Record<string, unknown> | string, topicArn: string, tamper = false): SnsMessage {
    const unsigned: SnsMessage = {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: topicArn,
      Message: typeof message === 'string' ? message : JSON.stringify(message),
      Timestamp: new Date(world.emu.clock.now()).toISOString(),
      SignatureVersion: '2',
      SigningCertURL: `${world.emu.endpoint}/_emulator/sns/cert.pem`,
      Signature: '',
    };
    const signer = createSign('RSA-SHA256');
    signer.update(snsStringToSign(unsigned));
    const signed = { ...unsigned, Signature: signer.sign(SNS_KEY, 'base64') };
    return tamper ? { ...signed, Message: signed.Message.replace('entitlement-updated', 'entitlement-updated ') } : signed;
  }
  const deliverSns = (message: SnsMessage) => receiver.handle({ headers: { 'x-amz-sns-message-type': 'Notification' }, body: JSON.stringify(message) });
  const deliverEvent = (event: unknown, secret = SECRET) => receiver.handle({ headers: { 'x-api-key': secret }, body: JSON.stringify(event) });

  it('the SNS entitlement-updated the emulator signs and delivers re-reads the legacy customer', async () => {
    const subscription = await world.emu.subscribe({ productCode: LEGACY_CONTRACT, contract: { dimensions: { seats: 10 } } });
    await world.emu.idle();
    const customer = await metering.resolveRegistration(subscription.token);
    const raised = nextChange(metering, (e) => valueOf(e.entitlements, 'seats') === 20);
    await world.emu.amend(subscription.customerIdentifier!, { dimensions: { seats: 20 } });
    const change = await raised;
    const delivered = world.emu.inspect.events().filter((e) => e.detailType === 'SNS entitlement-updated' && e.status === 200);
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    const body = JSON.parse(String((delivered.at(-1)!.body as { Message?: string }).Message ?? '{}')) as Record<string, string>;
    expect(body).toEqual({ action: 'entitlement-updated', 'customer-identifier': subscription.customerIdentifier, 'product-code': LEGACY_CONTRACT });
    expect(change).toMatchObject({ customerKey: customer.key, trigger: expect.stringMatching(/^event:/) });
  });

  it('accepts the older CustomerIdentifier / ProductCode keys of the entitlement notification', async () => {
    world.deliveries.hold();
    const subscription = await world.emu.subscribe({ productCode: LEGACY_CONTRACT, contract: { dimensions: { seats: 10 } } });
    const customer = await metering.resolveRegistration(subscription.token);
    await world.emu.amend(subscription.customerIdentifier!, { dimensions: { seats: 30 } });
    const raised = nextChange(metering, (e) => valueOf(e.entitlements, 'seats') === 30);
    const message = sns({ action: 'entitlement-updated', CustomerIdentifier: subscription.customerIdentifier, ProductCode: LEGACY_CONTRACT }, entitlementTopic(LEGACY_CONTRACT));
    await expect(deliverSns(message)).resolves.toMatchObject({ status: 200 });
    await expect(raised).resolves.toMatchObject({ customerKey: customer.key, trigger: `event:${message.MessageId}` });
  });

  it('the EventBridge agreement and license events of an amendment re-read the license', async () => {
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 10 } } });
    await world.emu.idle();
    const customer = await metering.resolveRegistration(subscription.token);
    const raised = nextChange(metering, (e) => valueOf(e.entitlements, 'seats') === 20);
    await world.emu.amend(subscription.licenseArn!, { dimensions: { seats: 20 } });
    const change = await raised;
    const signals = world.emu.inspect.events().filter((e) => ['Purchase Agreement Amended - Proposer', 'License Updated - Manufacturer', 'License Updated'].includes(e.detailType));
    expect(signals.map((e) => `event:${e.id}`)).toContain(change.trigger);
    expect(change.customerKey).toBe(customer.key);
  });

  it('the Lambda handler returns once the re-reads its events started are stored', async () => {
    world.deliveries.hold();
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 10 } } });
    const customer = await metering.resolveRegistration(subscription.token);
    await world.emu.amend(subscription.licenseArn!, { dimensions: { seats: 40 } });
    const handler = createLifecycleHandler(metering);
    const event = licenseEvent('License Updated', randomUUID(), world.emu.clock.now(), subscription);
    await expect(handler({ Records: [{ messageId: 'm-1', body: JSON.stringify(event) }] })).resolves.toEqual({ batchItemFailures: [] });
    expect(valueOf(await metering.entitlementsFor(customer), 'seats')).toBe(40);
  });

  it('forged or malformed deliveries are refused with a typed error and read nothing', async () => {
    world.deliveries.hold();
    const subscription = await world.emu.subscribe({ productCode: LEGACY_CONTRACT, contract: { dimensions: { seats: 10 } } });
    const license = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 10 } } });
    const legacyCustomer = await metering.resolveRegistration(subscription.token);
    const licenseCustomer = await metering.resolveRegistration(license.token);
    await world.emu.amend(subscription.customerIdentifier!, { dimensions: { seats: 20 } });
    await world.emu.amend(license.licenseArn!, { dimensions: { seats: 20 } });
    const reads = world.emu.inspect.calls('GetEntitlements').length;
    const updated = { action: 'entitlement-updated', 'customer-identifier': subscription.customerIdentifier, 'product-code': LEGACY_CONTRACT };

    const refused = [
      [await deliverSns(sns(updated, entitlementTopic(LEGACY_CONTRACT), true)), 403, ErrorCodes.SNS_SIGNATURE],
      [await deliverSns(sns(updated, entitlementTopic(LEGACY_CONTRACT, '999999999999'))), 403, ErrorCodes.SNS_TOPIC],
      [await deliverSns(sns({ ...updated, action: 'subscribe-success' }, entitlementTopic(LEGACY_CONTRACT))), 403, ErrorCodes.SNS_TOPIC],
      [await deliverSns(sns({ ...updated, 'product-code': CONTRACT }, entitlementTopic(LEGACY_CONTRACT))), 403, ErrorCodes.SNS_TOPIC],
      [await deliverSns(sns({ action: 'entitlement-updated' }, entitlementTopic(LEGACY_CONTRACT))), 400, ErrorCodes.LIFECYCLE_MALFORMED],
      [await deliverSns(sns('not json', entitlementTopic(LEGACY_CONTRACT))), 400, ErrorCodes.LIFECYCLE_MALFORMED],
      [await deliverEvent(licenseEvent('License Updated', randomUUID(), world.emu.clock.now(), license), 'wrong-secret-0123456789'), 401, ErrorCodes.LIFECYCLE_UNAUTHORIZED],
      [await deliverEvent({ ...licenseEvent('License Updated', randomUUID(), world.emu.clock.now(), license), detail: { product: { code: CONTRACT } } }), 400, ErrorCodes.LIFECYCLE_MALFORMED],
      [await deliverEvent({ ...licenseEvent('License Updated', randomUUID(), world.emu.clock.now(), license), source: 'aws.someone-else' }), 400, ErrorCodes.LIFECYCLE_MALFORMED],
    ] as const;
    for (const [result, status, code] of refused) expect({ status: result.status, code: (result.body as { error?: { code: string } }).error?.code }).toEqual({ status, code });
    await metering.persist();
    expect(world.emu.inspect.calls('GetEntitlements')).toHaveLength(reads);
    expect(valueOf(await metering.entitlementsFor(legacyCustomer), 'seats')).toBe(10);
    expect(valueOf(await metering.entitlementsFor(licenseCustomer), 'seats')).toBe(10);

    // The genuine ones, held until now, go through.
    const raised = nextChange(metering, (e) => e.customerKey === licenseCustomer.key && valueOf(e.entitlements, 'seats') === 20);
    await world.deliveries.release();
    await raised;
  });
});
