import { createMetering, silentLogger, type Metering, type SubscriptionEvent } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import express, { type Express } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { meterkit, type MeterkitMiddleware, type MeterkitOptions } from '../src';
import { at, DIMENSIONS, PRODUCT, REGISTER_PATH } from './support/world';

const EVENTS_PATH = '/marketplace/events';
const SECRET = 'an-api-destination-secret-0123456789';

interface App {
  emu: Emulator;
  metering: Metering;
  mk: MeterkitMiddleware;
  app: Express;
  url: string;
  changes: SubscriptionEvent[];
  close(): Promise<void>;
}

/**
 * The app listens first (its handler is bound once built), so the emulator can be told where to deliver events:
 * the app's real URL and lifecycle path, with the connection's secret header, as an EventBridge API destination.
 */
async function startApp(options: Partial<MeterkitOptions> = {}): Promise<App> {
  let handler: Express | undefined;
  const server: Server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const emu = await startEmulator({
    now: at('2026-07-15T10:20:00Z'),
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
  });
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  const changes: SubscriptionEvent[] = [];
  let tenants = 0;
  const mk = meterkit(metering, {
    identify: (req) => req.get('x-tenant'),
    manageLifecycle: false,
    registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, onRegistered: () => ({ tenantId: `tenant-${++tenants}` }) },
    lifecycle: { path: EVENTS_PATH, secret: SECRET, maxBodyBytes: 8192 },
    onSubscriptionChange: (event) => {
      changes.push(event);
    },
    ...options,
  });
  const app = express();
  app.use(mk);
  app.use(express.json());
  app.get('/work', mk.count('api_calls', 3), (req, res) => {
    res.json({ metered: req.meter !== null, code: req.meteringError?.code ?? null });
  });
  app.post('/echo-json', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  app.post('/echo-text', express.text(), (req, res) => {
    res.json({ body: req.body as unknown });
  });
  handler = app;
  return {
    emu,
    metering,
    mk,
    app,
    url,
    changes,
    async close() {
      await mk.close().catch(() => undefined);
      await emu.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
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
    const post = () => request(fresh.app).post(EVENTS_PATH).set('content-type', 'application/json');
    const statuses = [
      (await post().send(body)).status,
      (await post().set('x-api-key', 'not-the-secret-not-the-secret').send(body)).status,
      (await post().set('x-api-key', `${SECRET}x`).send(body)).status,
      (await post().set('x-api-key', SECRET).send(JSON.stringify({ ...deprovision, source: 'evil.source' }))).status,
      (await post().set('x-api-key', SECRET).send('{"detail-type": "License Deprovisioned"')).status,
      (await post().set('x-api-key', SECRET).send(JSON.stringify({ ...deprovision, padding: 'x'.repeat(9000) }))).status,
      (await post().set('x-api-key', SECRET).set('content-encoding', 'gzip').send(body)).status,
      (await post().set('x-api-key', SECRET).send('')).status,
      (await request(fresh.app).post(EVENTS_PATH).set('x-amz-sns-message-type', 'Notification').set('content-type', 'text/plain').send(body)).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 400, 400, 413, 400, 400, 404]);
    expect(await fresh.metering.listCustomers()).toEqual(before);
    expect(fresh.changes).toEqual([]);

    const accepted = await post().set('x-api-key', SECRET).send(body).expect(200);
    expect(accepted.body).toEqual({ outcome: 'applied' });
    expect(await fresh.metering.listCustomers()).toHaveLength(1);
  });

  it('adds no body parser to the app: its own routes keep their parsers, and deliveries are never metered', async () => {
    a = await startApp();
    await request(a.app).post('/echo-json').send({ hello: 'json' }).expect(200, { body: { hello: 'json' } });
    await request(a.app).post('/echo-text').set('content-type', 'text/plain').send('plain words').expect(200, { body: 'plain words' });

    const { tenant, key } = await subscribeAndRegister();
    const event = a.emu.inspect.events()[2]!.body;
    await request(a.app).post(EVENTS_PATH).set('x-tenant', tenant).set('x-api-key', SECRET).send(event as object).expect(200, { outcome: 'duplicate' });
    await a.metering.flush();
    a.emu.clock.set(at('2026-07-15T11:11:00Z'));
    await a.metering.flush();
    expect(a.emu.inspect.records()).toEqual([]);
    expect((await a.metering.status()).inMemory).toBe(0);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
  });

  it('logs a failing onSubscriptionChange hook and still applies the event', async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      a = await startApp({
        onSubscriptionChange: async () => {
          throw new Error('grant service down');
        },
      });
      const { key } = await subscribeAndRegister();
      expect(a.emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
      expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('onSubscriptionChange failed for activated'), 'grant service down');
    } finally {
      logged.mockRestore();
    }
  });

  it('refuses lifecycle options it cannot serve when meterkit() is created', async () => {
    a = await startApp();
    const create = (lifecycle: unknown) => () => meterkit(a.metering, { identify: () => undefined, manageLifecycle: false, lifecycle: lifecycle as MeterkitOptions['lifecycle'] });
    expect(create({ path: 'events', secret: SECRET })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    expect(create({ path: EVENTS_PATH })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    expect(create({ path: EVENTS_PATH, secret: 'short' })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    expect(create({ path: EVENTS_PATH, secret: SECRET, maxBodyBytes: 10 })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
  });
});
