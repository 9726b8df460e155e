import type { Metering, SubscriptionEvent } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meterkit, type MeterkitPluginOptions } from '../src';
import { DIMENSIONS, HOUR_CLOSED, meteringFor, PRODUCT, START } from './support/world';

const EVENTS_PATH = '/marketplace/events';
const REGISTER_PATH = '/marketplace/register';
const SECRET = 'an-api-destination-secret-0123456789';

interface App {
  emu: Emulator;
  metering: Metering;
  app: FastifyInstance;
  url: string;
  changes: SubscriptionEvent[];
  logged: string[];
  /** URLs `identify` ran for. */
  identified: string[];
  close(): Promise<void>;
}

/**
 * The app's server listens first (Fastify gets it through serverFactory), so the emulator can deliver events to the
 * app's real URL and lifecycle path with the connection's secret header, as an EventBridge API destination does.
 */
async function startApp(options: Partial<MeterkitPluginOptions> = {}): Promise<App> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const emu = await startEmulator({
    now: START,
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
  });
  const metering = meteringFor(emu);
  const changes: SubscriptionEvent[] = [];
  const logged: string[] = [];
  const identified: string[] = [];
  const app = Fastify({
    logger: { level: 'error', stream: { write: (line: string) => logged.push(line) } },
    serverFactory: (handler) => server.on('request', handler),
  });
  let tenants = 0;
  await app.register(meterkit, {
    metering,
    identify: (request) => {
      identified.push(request.url);
      return typeof request.headers['x-tenant'] === 'string' ? request.headers['x-tenant'] : undefined;
    },
    registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, onRegistered: () => ({ tenantId: `tenant-${++tenants}` }) },
    lifecycle: { path: EVENTS_PATH, secret: SECRET, maxBodyBytes: 8192 },
    onSubscriptionChange: (event) => {
      changes.push(event);
    },
    ...options,
  });
  app.get('/work', { config: { metering: { dimension: 'api_calls', quantity: 3 } } }, async (request) => ({
    metered: request.meter !== null,
    code: request.meteringError?.code ?? null,
  }));
  app.post('/echo', async (request) => ({ body: request.body }));
  await app.ready();
  return {
    emu,
    metering,
    app,
    url,
    changes,
    logged,
    identified,
    async close() {
      await app.close();
      await emu.close();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the lifecycle route (EventBridge API destination deliveries from the emulator over HTTP)', () => {
  let a: App;
  /** Apps a test starts beside `a`, closed even when the test fails. */
  const others: App[] = [];
  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    await a.close();
  });

  async function subscribeAndRegister(): Promise<{ licenseArn: string; tenant: string; key: string }> {
    const subscription = await a.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${a.url}${REGISTER_PATH}` });
    expect(subscription.registration?.status).toBe(200);
    const customer = (await a.metering.listCustomers()).find((c) => c.identity.kind === 'license' && c.identity.licenseArn === subscription.licenseArn)!;
    return { licenseArn: subscription.licenseArn!, tenant: customer.tenantId!, key: customer.key };
  }

  it('refuses forged, unauthenticated, oversized and malformed deliveries with a 4xx and changes nothing', async () => {
    a = await startApp();
    const { licenseArn } = await subscribeAndRegister();
    await a.emu.cancel(licenseArn);
    const deprovision = a.emu.inspect.events().find((e) => e.detailType.startsWith('License Deprovisioned'))!.body as Record<string, unknown>;
    // A second app that has seen none of it receives the deliveries.
    const fresh = await startApp();
    others.push(fresh);
    const before = await fresh.metering.listCustomers();
    const body = JSON.stringify(deprovision);
    const post = async (headers: Record<string, string>, payload: string) =>
      (await fresh.app.inject({ method: 'POST', url: EVENTS_PATH, headers: { 'content-type': 'application/json', ...headers }, payload })).statusCode;
    const statuses = [
      await post({}, body),
      await post({ 'x-api-key': 'not-the-secret-not-the-secret' }, body),
      await post({ 'x-api-key': `${SECRET}x` }, body),
      await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, source: 'evil.source' })),
      await post({ 'x-api-key': SECRET }, '{"detail-type": "License Deprovisioned"'),
      await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, padding: 'x'.repeat(9000) })),
      await post({ 'x-api-key': SECRET, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'),
      await post({ 'x-api-key': SECRET }, ''),
      await post({ 'x-amz-sns-message-type': 'Notification', 'content-type': 'text/plain; charset=UTF-8' }, body),
    ];
    expect(statuses).toEqual([401, 401, 401, 400, 400, 413, 400, 400, 404]);
    expect(await fresh.metering.listCustomers()).toEqual(before);
    expect(fresh.changes).toEqual([]);

    // Over real HTTP too, where the size cap stops the read.
    const oversized = await fetch(`${fresh.url}${EVENTS_PATH}`, { method: 'POST', headers: { 'x-api-key': SECRET, 'content-type': 'application/json' }, body: 'x'.repeat(100_000) });
    expect(oversized.status).toBe(413);

    const accepted = await fresh.app.inject({ method: 'POST', url: EVENTS_PATH, headers: { 'content-type': 'application/json', 'x-api-key': SECRET }, payload: body });
    expect([accepted.statusCode, accepted.json()]).toEqual([200, { outcome: 'applied' }]);
    expect(await fresh.metering.listCustomers()).toHaveLength(1);
  });

  it('adds no content-type parser to the root instance, and deliveries are never metered', async () => {
    a = await startApp();
    expect(a.app.hasContentTypeParser('*')).toBe(false);
    expect(a.app.hasContentTypeParser('application/octet-stream')).toBe(false);
    const json = await a.app.inject({ method: 'POST', url: '/echo', payload: { hello: 'json' } });
    expect(json.json()).toEqual({ body: { hello: 'json' } });
    const binary = await a.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/octet-stream' }, payload: 'raw' });
    expect(binary.statusCode).toBe(415);

    const { tenant, key } = await subscribeAndRegister();
    const event = JSON.stringify(a.emu.inspect.events()[2]!.body);
    const delivery = await a.app.inject({ method: 'POST', url: EVENTS_PATH, headers: { 'x-tenant': tenant, 'x-api-key': SECRET, 'content-type': 'application/json' }, payload: event });
    expect(delivery.json()).toEqual({ outcome: 'duplicate' });
    expect(a.identified).not.toContain(EVENTS_PATH);
    expect(a.identified).toContain('/echo');
    a.emu.clock.set(HOUR_CLOSED);
    await a.metering.flush();
    expect(a.emu.inspect.records()).toEqual([]);
    expect((await a.metering.status()).inMemory).toBe(0);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
  });

  it('logs a failing onSubscriptionChange hook and still applies the event', async () => {
    a = await startApp({
      onSubscriptionChange: async () => {
        throw new Error('grant service down');
      },
    });
    const { key } = await subscribeAndRegister();
    expect(a.emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
    expect(a.logged.map((line) => JSON.parse(line) as { msg: string; change: string; err: string })).toEqual([
      expect.objectContaining({ msg: '@meterkit/fastify: onSubscriptionChange failed', change: 'activated', err: 'grant service down' }),
    ]);
  });

  it('refuses lifecycle options it cannot serve when the plugin is registered', async () => {
    a = await startApp();
    const register = async (lifecycle: unknown) => {
      const app = Fastify({ logger: false });
      try {
        await app.register(meterkit, { metering: a.metering, identify: () => undefined, manageLifecycle: false, lifecycle: lifecycle as MeterkitPluginOptions['lifecycle'] });
        await app.ready();
      } finally {
        await app.close();
      }
    };
    await expect(register({ path: 'events', secret: SECRET })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await expect(register({ path: EVENTS_PATH })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await expect(register({ path: EVENTS_PATH, secret: 'short' })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await expect(register({ path: EVENTS_PATH, secret: SECRET, maxBodyBytes: 10 })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
  });
});
