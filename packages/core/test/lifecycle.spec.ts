import {
  createLifecycleHandler,
  customerKey,
  LifecycleReceiver,
  parseEventBridgeEvent,
  type CustomerIdentity,
  type CustomerRecord,
  type Metering,
  type SubscriptionEvent,
} from '../src';
import { startEventReceiver } from './support/event-receiver';
import { at, identityOf, LEGACY, LICENSED, startWorld, type World } from './support/world';

const SECRET = 'a-connection-secret-of-32-chars!!';

async function worldWithEvents(sns = false): Promise<{ world: World; subscriptions: SubscriptionEvent[]; closeReceiver: () => Promise<void> }> {
  let world: World | undefined;
  const receiver = await startEventReceiver(() => world!.metering, {
    secret: SECRET,
    ...(sns ? { sns: { trustCertificateUrl: (url: URL) => url.hostname === '127.0.0.1' } } : {}),
  });
  world = await startWorld({}, { events: { url: receiver.url, headerValue: SECRET }, ...(sns ? { sns: { url: receiver.url } } : {}) });
  const subscriptions: SubscriptionEvent[] = [];
  world.metering.on('subscription', (e) => subscriptions.push(e));
  return { world, subscriptions, closeReceiver: receiver.close };
}

async function customerOf(metering: Metering, identity: CustomerIdentity): Promise<CustomerRecord | undefined> {
  return metering.getCustomer(customerKey(identity));
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('subscription lifecycle (EventBridge and SNS deliveries from the emulator)', () => {
  let world: World;
  let closeReceiver: () => Promise<void>;
  afterEach(async () => {
    await world.close();
    await closeReceiver();
  });

  it('activates on License Updated, flushes the final partial hour on deprovisioning, then refuses usage', async () => {
    let subscriptions: SubscriptionEvent[];
    ({ world, subscriptions, closeReceiver } = await worldWithEvents());
    const { metering, emu } = world;
    const subscription = await emu.subscribe({ productCode: LICENSED });
    const identity = identityOf(subscription);
    expect(await customerOf(metering, identity)).toMatchObject({ status: 'active', agreementId: subscription.agreementId });
    expect(subscriptions.map((s) => s.change)).toEqual(['activated']);

    const registered = await metering.resolveRegistration(subscription.token);
    expect(registered.status).toBe('active');
    await metering.linkTenant(registered.key, 'tenant-1');
    await (await metering.meterFor('tenant-1')).record('api_calls', 5).commit();
    world.setTime('2026-07-15T11:20:00Z');
    await (await metering.meterFor('tenant-1')).record('api_calls', 7).commit();

    await emu.cancel(subscription.licenseArn!);
    await metering.flush();
    await settle();
    expect(subscriptions.map((s) => s.change)).toContain('deprovisioning');
    expect(emu.inspect.records().map((r) => [new Date(r.hour).toISOString(), r.quantity]).sort()).toEqual([
      ['2026-07-15T10:00:00.000Z', 5],
      ['2026-07-15T11:00:00.000Z', 7],
    ]);
    await expect(metering.meterFor('tenant-1')).rejects.toMatchObject({ code: 'ERR_METERKIT_CUSTOMER_INACTIVE' });

    world.setTime('2026-07-15T12:40:00Z');
    await metering.flush();
    expect(await customerOf(metering, identity)).toMatchObject({ status: 'inactive' });
    expect(subscriptions.map((s) => s.change).at(-1)).toBe('ended');
  });

  it('sends only the deprovisioned license early: other customers keep the lock period', async () => {
    ({ world, closeReceiver } = await worldWithEvents());
    const { metering, emu } = world;
    const leaving = await emu.subscribe({ productCode: LICENSED });
    const staying = await emu.subscribe({ productCode: LICENSED });
    await metering.meter(identityOf(leaving)).record('api_calls', 1).commit();
    await metering.meter(identityOf(staying)).record('api_calls', 2).commit();
    await emu.cancel(leaving.agreementId);
    await metering.flush();
    expect(emu.inspect.records().map((r) => [r.licenseArn, r.quantity])).toEqual([[leaving.licenseArn, 1]]);
  });

  it('applies repeated and reordered events to the same end state, and never reopens a deprovisioned license', async () => {
    ({ world, closeReceiver } = await worldWithEvents());
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    await world.emu.cancel(subscription.licenseArn!);
    const bodies = world.emu.inspect.events().map((e) => e.body);
    const expected = await customerOf(world.metering, identityOf(subscription));
    expect(expected).toMatchObject({ status: 'deprovisioning' });

    const orders = [[...bodies].reverse(), [...bodies, ...bodies], [bodies[3], bodies[2], bodies[0], bodies[2], bodies[1], bodies[4], bodies[0]]];
    for (const order of orders) {
      const replay = await startWorld();
      for (const body of order) await replay.metering.applyLifecycleEvent(parseEventBridgeEvent(body));
      const state = await customerOf(replay.metering, identityOf(subscription));
      expect(state).toMatchObject({ status: 'deprovisioning', agreementId: subscription.agreementId, finalUsageDeadline: expected!.finalUsageDeadline });
      await replay.close();
    }
  });

  it('moves the tenant to the new license on replacement and flushes the old one; keeps it on renewal', async () => {
    let subscriptions: SubscriptionEvent[];
    ({ world, subscriptions, closeReceiver } = await worldWithEvents());
    const { metering, emu } = world;
    const first = await emu.subscribe({ productCode: LICENSED });
    const customer = await metering.resolveRegistration(first.token);
    await metering.linkTenant(customer.key, 'tenant-9');

    await emu.renew(first.licenseArn!);
    expect(subscriptions.map((s) => s.change)).toContain('renewed');
    expect((await metering.meterFor('tenant-9')).customerKey).toBe(customer.key);

    await (await metering.meterFor('tenant-9')).record('api_calls', 3).commit();
    const replacement = await emu.replace(first.licenseArn!);
    expect(replacement.licenseArn).not.toBe(first.licenseArn);
    expect(subscriptions.map((s) => s.change)).toEqual(expect.arrayContaining(['replaced', 'deprovisioning']));
    const meter = await metering.meterFor('tenant-9');
    expect(meter.customer).toMatchObject({ licenseArn: replacement.licenseArn });
    await meter.record('api_calls', 4).commit();

    await metering.flush();
    world.setTime('2026-07-15T11:30:00Z');
    await metering.flush();
    expect(emu.inspect.totalFor({ licenseArn: first.licenseArn! })).toBe(3);
    expect(emu.inspect.totalFor({ licenseArn: replacement.licenseArn! })).toBe(4);
    expect(emu.inspect.duplicates()).toEqual([]);
  });

  it('refuses unauthenticated, forged and malformed deliveries without changing anything', async () => {
    ({ world, closeReceiver } = await worldWithEvents());
    const { emu } = world;
    const subscription = await emu.subscribe({ productCode: LICENSED });
    const [deprovision] = await (async () => {
      await emu.cancel(subscription.licenseArn!);
      return emu.inspect.events().filter((e) => e.detailType.startsWith('License Deprovisioned')).map((e) => e.body);
    })();
    const fresh = await startWorld();
    const receiver = new LifecycleReceiver(fresh.metering, { path: '/events', secret: SECRET, maxBodyBytes: 4096 });
    const body = JSON.stringify(deprovision);
    const attempts = [
      { headers: {}, body },
      { headers: { 'x-api-key': 'wrong-secret-wrong-secret-wrong!' }, body },
      { headers: { 'x-api-key': `${SECRET}x` }, body },
      { headers: { 'x-api-key': SECRET }, body: '{"not":"an event"' },
      { headers: { 'x-api-key': SECRET }, body: JSON.stringify({ ...(deprovision as object), source: 'evil.source' }) },
      { headers: { 'x-api-key': SECRET }, body: JSON.stringify({ id: 'x', 'detail-type': 'License Deprovisioned - Manufacturer', source: 'aws.agreement-marketplace', time: '2026-07-15T10:00:00Z', detail: {} }) },
      { headers: { 'x-api-key': SECRET }, body: 'x'.repeat(5000) },
      { headers: { 'x-amz-sns-message-type': 'Notification' }, body },
    ];
    const statuses: number[] = [];
    for (const attempt of attempts) statuses.push((await receiver.handle(attempt)).status);
    expect(statuses).toEqual([401, 401, 401, 400, 400, 400, 413, 404]);
    expect(await fresh.metering.listCustomers()).toEqual([]);
    expect((await receiver.handle({ headers: { 'x-api-key': SECRET }, body })).status).toBe(200);
    expect(await fresh.metering.listCustomers()).toHaveLength(1);
    await fresh.close();
  });

  it('follows legacy SNS notifications, verified against the signing certificate', async () => {
    let subscriptions: SubscriptionEvent[];
    ({ world, subscriptions, closeReceiver } = await worldWithEvents(true));
    const { metering, emu } = world;
    const subscription = await emu.subscribe({ productCode: LEGACY });
    const identity = identityOf(subscription);
    expect(await customerOf(metering, identity)).toMatchObject({ status: 'active' });
    await metering.meter(identity).record('api_calls', 6).commit();

    await emu.cancel(subscription.customerIdentifier!);
    await metering.flush();
    await settle();
    expect(await customerOf(metering, identity)).toMatchObject({ status: 'deprovisioning' });
    expect(emu.inspect.totalFor({ customerIdentifier: subscription.customerIdentifier! })).toBe(6);
    expect(subscriptions.map((s) => s.change)).toEqual(['activated', 'deprovisioning']);
  });

  it('refuses a tampered SNS notification and one signed by an untrusted certificate URL', async () => {
    ({ world, closeReceiver } = await worldWithEvents(true));
    await world.emu.subscribe({ productCode: LEGACY });
    const notification = world.emu.inspect.events().find((e) => e.detailType.startsWith('SNS'))!.body as Record<string, string>;
    const fresh = await startWorld();
    const trusting = new LifecycleReceiver(fresh.metering, { path: '/e', sns: { trustCertificateUrl: (u) => u.hostname === '127.0.0.1' } });
    const strict = new LifecycleReceiver(fresh.metering, { path: '/e', sns: true });
    const headers = { 'x-amz-sns-message-type': 'Notification' };
    const tampered = { ...notification, Message: notification.Message!.replace('subscribe-success', 'unsubscribe-pending') };
    expect((await trusting.handle({ headers, body: JSON.stringify(tampered) })).status).toBe(403);
    expect((await strict.handle({ headers, body: JSON.stringify(notification) })).status).toBe(403);
    expect((await trusting.handle({ headers, body: JSON.stringify({ ...notification, TopicArn: 'arn:aws:sns:us-east-1:1:other' }) })).status).toBe(403);
    expect(await fresh.metering.listCustomers()).toEqual([]);
    fresh.emu.clock.set(at('2026-07-15T10:20:00Z') + 2 * 3_600_000);
    expect((await trusting.handle({ headers, body: JSON.stringify(notification) })).status).toBe(400);
    fresh.emu.clock.set(at('2026-07-15T10:20:00Z'));
    expect((await trusting.handle({ headers, body: JSON.stringify(notification) })).status).toBe(200);
    expect(await fresh.metering.listCustomers()).toHaveLength(1);
    await fresh.close();
  });

  it('handles the same events through a Lambda handler fed by SQS, with partial batch failures', async () => {
    ({ world, closeReceiver } = await worldWithEvents());
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    const bodies = world.emu.inspect.events().map((e) => e.body);
    const fresh = await startWorld();
    const handler = createLifecycleHandler(fresh.metering);
    const result = await handler({ Records: [...bodies.map((b, i) => ({ messageId: `m${i}`, body: JSON.stringify(b) })), { messageId: 'bad', body: '{' }] });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await customerOf(fresh.metering, identityOf(subscription))).toMatchObject({ status: 'active' });
    await fresh.close();
  });
});

describe('putCustomer() between lifecycle events', () => {
  it('keeps the ordering of the events applied: a newer Agreement Amended still does not make an older License Deprovisioned stale', async () => {
    const world = await startWorld();
    try {
      const subscription = await world.emu.subscribe({ productCode: LICENSED });
      const identity = identityOf(subscription);
      const license = { licenseArn: subscription.licenseArn!, productCode: LICENSED, accountId: subscription.accountId, agreementId: subscription.agreementId! };
      const now = world.emu.clock.now();
      await world.metering.applyLifecycleEvent({ id: 'updated', time: now - 3_000, type: 'License Updated', change: { kind: 'license-updated', ...license } });
      const amended = { kind: 'agreement-amended', agreementId: license.agreementId } as const;
      await world.metering.applyLifecycleEvent({ id: 'amended', time: now - 1_000, type: 'Purchase Agreement Amended', change: amended });
      await world.metering.putCustomer({ identity, status: 'active', tenantId: 'tenant-1' });

      const deprovisioned = { id: 'deprovisioned', time: now - 2_000, type: 'License Deprovisioned', change: { kind: 'license-deprovisioned', ...license } } as const;
      await expect(world.metering.applyLifecycleEvent(deprovisioned)).resolves.toBe('applied');
      expect(await customerOf(world.metering, identity)).toMatchObject({
        status: 'deprovisioning',
        tenantId: 'tenant-1',
        lastEventAt: now - 1_000,
        finalUsageDeadline: now - 2_000 + 50 * 60_000,
      });
    } finally {
      await world.close();
    }
  });
});
