import { createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { customerKey, LifecycleReceiver, snsStringToSign, type SnsMessage } from '../src';
import { at, identityOf, LEGACY, startWorld, type World } from './support/world';

// SNS signs every topic's messages with the same certificate: a topic in any account yields a genuine signature.
// The emulator's signing key stands in for SNS's here.
const SNS_KEY = readFileSync(path.join(__dirname, '..', '..', 'emulator', 'certs', 'sns-signing-key.pem'), 'utf8');
const MARKETPLACE_ACCOUNT = '287250355862';
const NOW = at('2026-07-15T10:20:00Z');

function signed(fields: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>, certUrl: string): SnsMessage {
  const unsigned = { ...fields, SignatureVersion: '2' as const, SigningCertURL: certUrl, Signature: '' };
  const signer = createSign('RSA-SHA256');
  signer.update(snsStringToSign(unsigned));
  return { ...unsigned, Signature: signer.sign(SNS_KEY, 'base64') };
}

function notification(topicArn: string, message: Record<string, string>, certUrl: string): SnsMessage {
  return signed(
    { Type: 'Notification', MessageId: randomUUID(), TopicArn: topicArn, Message: JSON.stringify(message), Timestamp: new Date(NOW).toISOString() },
    certUrl,
  );
}

const topic = (account: string, productCode: string, kind = 'subscription') => `arn:aws:sns:us-east-1:${account}:aws-mp-${kind}-notification-${productCode}`;

describe('SNS notifications are accepted only from AWS Marketplace topics of configured products', () => {
  let world: World;
  let receiver: LifecycleReceiver;
  let certUrl: string;
  let confirmations: Server;
  let confirmationsUrl: string;
  let followed: string[];

  beforeEach(async () => {
    world = await startWorld();
    certUrl = `${world.emu.endpoint}/_emulator/sns/cert.pem`;
    receiver = new LifecycleReceiver(world.metering, { path: '/events', sns: { trustCertificateUrl: (url) => url.hostname === '127.0.0.1' } });
    followed = [];
    confirmations = createServer((request, response) => {
      followed.push(request.url ?? '');
      response.end('<ConfirmSubscriptionResponse/>');
    });
    await new Promise<void>((resolve) => confirmations.listen(0, '127.0.0.1', resolve));
    confirmationsUrl = `http://127.0.0.1:${(confirmations.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await world.close();
    await new Promise((resolve) => confirmations.close(resolve));
  });

  const deliver = (message: SnsMessage) => receiver.handle({ headers: { 'x-amz-sns-message-type': message.Type }, body: JSON.stringify(message) });

  it('applies a notification of the Marketplace account topic of a configured product', async () => {
    const buyer = await world.emu.subscribe({ productCode: LEGACY });
    const message = { action: 'subscribe-success', 'customer-identifier': buyer.customerIdentifier!, 'product-code': LEGACY };
    expect((await deliver(notification(topic(MARKETPLACE_ACCOUNT, LEGACY), message, certUrl))).body).toEqual({ outcome: 'applied' });
    await expect(world.metering.getCustomer(customerKey(identityOf(buyer)))).resolves.toMatchObject({ status: 'active' });
  });

  it('refuses a genuinely signed unsubscribe from a look-alike topic in another account, changing nothing', async () => {
    const buyer = await world.emu.subscribe({ productCode: LEGACY });
    const key = customerKey(identityOf(buyer));
    await deliver(notification(topic(MARKETPLACE_ACCOUNT, LEGACY), { action: 'subscribe-success', 'customer-identifier': buyer.customerIdentifier!, 'product-code': LEGACY }, certUrl));
    const attack = notification(topic('999999999999', LEGACY), { action: 'unsubscribe-pending', 'customer-identifier': buyer.customerIdentifier!, 'product-code': LEGACY }, certUrl);
    const result = await deliver(attack);
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ error: { code: 'ERR_METERKIT_SNS_TOPIC' } });
    await expect(world.metering.getCustomer(key)).resolves.toMatchObject({ status: 'active' });
  });

  it('refuses a topic of a product this app does not meter, and a message naming another product than its topic', async () => {
    const buyer = await world.emu.subscribe({ productCode: LEGACY });
    const unknown = await deliver(
      notification(topic(MARKETPLACE_ACCOUNT, 'prod-someone-else'), { action: 'subscribe-success', 'customer-identifier': buyer.customerIdentifier!, 'product-code': 'prod-someone-else' }, certUrl),
    );
    expect(unknown).toMatchObject({ status: 403, body: { error: { code: 'ERR_METERKIT_SNS_TOPIC' } } });
    const crossed = await deliver(
      notification(topic(MARKETPLACE_ACCOUNT, 'prod-licensed'), { action: 'subscribe-success', 'customer-identifier': buyer.customerIdentifier!, 'product-code': LEGACY }, certUrl),
    );
    expect(crossed).toMatchObject({ status: 403, body: { error: { code: 'ERR_METERKIT_SNS_TOPIC' } } });
    await expect(world.metering.listCustomers()).resolves.toEqual([]);
  });

  it('follows a SubscriptionConfirmation only for a Marketplace topic of a configured product', async () => {
    const confirmation = (topicArn: string) =>
      signed(
        {
          Type: 'SubscriptionConfirmation',
          MessageId: randomUUID(),
          TopicArn: topicArn,
          Message: 'You have chosen to subscribe to the topic.',
          Timestamp: new Date(NOW).toISOString(),
          Token: 'token',
          SubscribeURL: `${confirmationsUrl}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}`,
        },
        certUrl,
      );
    const trusting = new LifecycleReceiver(world.metering, {
      path: '/events',
      sns: { trustCertificateUrl: (url) => url.hostname === '127.0.0.1' },
    });
    const refused = [topic('999999999999', LEGACY), topic(MARKETPLACE_ACCOUNT, 'prod-someone-else'), 'arn:aws:sns:us-east-1:287250355862:other-topic'];
    for (const arn of refused) {
      const result = await trusting.handle({ headers: { 'x-amz-sns-message-type': 'SubscriptionConfirmation' }, body: JSON.stringify(confirmation(arn)) });
      expect(result.status).toBe(403);
    }
    expect(followed).toEqual([]);
    const accepted = await trusting.handle({
      headers: { 'x-amz-sns-message-type': 'SubscriptionConfirmation' },
      body: JSON.stringify(confirmation(topic(MARKETPLACE_ACCOUNT, LEGACY, 'entitlement'))),
    });
    expect(accepted).toEqual({ status: 200, body: { outcome: 'confirmed' } });
    expect(followed).toHaveLength(1);
  });

  it('takes the publishing account from sns.topicAccountId', async () => {
    const buyer = await world.emu.subscribe({ productCode: LEGACY });
    const own = new LifecycleReceiver(world.metering, { path: '/events', sns: { topicAccountId: '111122223333', trustCertificateUrl: (url) => url.hostname === '127.0.0.1' } });
    const message = { action: 'subscribe-success', 'customer-identifier': buyer.customerIdentifier!, 'product-code': LEGACY };
    const send = (m: SnsMessage) => own.handle({ headers: { 'x-amz-sns-message-type': 'Notification' }, body: JSON.stringify(m) });
    expect((await send(notification(topic(MARKETPLACE_ACCOUNT, LEGACY), message, certUrl))).status).toBe(403);
    expect((await send(notification(topic('111122223333', LEGACY), message, certUrl))).status).toBe(200);
    expect(() => new LifecycleReceiver(world.metering, { path: '/events', sns: { topicAccountId: '12345' } })).toThrow(
      expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }),
    );
  });
});
