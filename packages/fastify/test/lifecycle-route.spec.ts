import type { Metering, SubscriptionEvent } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meterkit, type MeterkitPluginOptions } from '../src';
import { DIMENSIONS, meteringFor, PRODUCT, START } from './support/world';

const EVENTS_PATH = '/marketplace/events';
const REGISTER_PATH = '/marketplace/register';
const SECRET = 'an-api-destination-secret-0123456789';

interface App {
  emu: Emulator;
  metering: Metering;
  app: FastifyInstance;
  url: string;
  changes: SubscriptionEvent[];
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
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => server.on('request', handler),
  });
  let tenants = 0;
  await app.register(meterkit, {
    metering,
    identify: (request) => (typeof request.headers['x-tenant'] === 'string' ? request.headers['x-tenant'] : undefined),
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
  afterEach(async () => {
    await a.close();
  });

  async function subscribeAndRegister(): Promise<{ licenseArn: string; tenant: string; key: string }> {
    const subscription = await a.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${a.url}${REGISTER_PATH}` });
    expect(subscription.registration?.status).toBe(200);
    const customer = (await a.metering.listCustomers()).find((c) => c.identity.kind === 'license' && c.identity.licenseArn === subscription.licenseArn)!;
    return { licenseArn: subscription.licenseArn!, tenant: customer.tenantId!, key: customer.key };
  }

  it('adds no content-type parser to the root instance, and reads deliveries in its own scope', async () => {
    a = await startApp();
    expect(a.app.hasContentTypeParser('*')).toBe(false);
    expect(a.app.hasContentTypeParser('application/octet-stream')).toBe(false);
    const json = await a.app.inject({ method: 'POST', url: '/echo', payload: { hello: 'json' } });
    expect(json.json()).toEqual({ body: { hello: 'json' } });
    const binary = await a.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/octet-stream' }, payload: 'raw' });
    expect(binary.statusCode).toBe(415);

    const { key } = await subscribeAndRegister();
    const event = JSON.stringify(a.emu.inspect.events()[2]!.body);
    const delivery = await a.app.inject({ method: 'POST', url: EVENTS_PATH, headers: { 'x-api-key': SECRET, 'content-type': 'application/json' }, payload: event });
    expect(delivery.json()).toEqual({ outcome: 'duplicate' });
    // SNS's text/plain too, which the root instance has no parser for (refused for its secret, not its media type).
    const text = await a.app.inject({ method: 'POST', url: EVENTS_PATH, headers: { 'content-type': 'text/plain' }, payload: event });
    expect(text.statusCode).toBe(401);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
    expect(a.changes.map((change) => change.change)).toEqual(['activated']);
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
