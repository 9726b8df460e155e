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
  afterEach(async () => {
    await a.close();
  });

  async function subscribeAndRegister(): Promise<{ licenseArn: string; tenant: string; key: string }> {
    const subscription = await a.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${a.url}${REGISTER_PATH}` });
    expect(subscription.registration?.status).toBe(200);
    const customer = (await a.metering.listCustomers()).find((c) => c.identity.kind === 'license' && c.identity.licenseArn === subscription.licenseArn)!;
    return { licenseArn: subscription.licenseArn!, tenant: customer.tenantId!, key: customer.key };
  }

  it('adds no body parser to the app: its own routes keep their parsers, and deliveries are read before them', async () => {
    a = await startApp();
    await request(a.app).post('/echo-json').send({ hello: 'json' }).expect(200, { body: { hello: 'json' } });
    await request(a.app).post('/echo-text').set('content-type', 'text/plain').send('plain words').expect(200, { body: 'plain words' });

    const { key } = await subscribeAndRegister();
    const event = a.emu.inspect.events()[2]!.body;
    await request(a.app).post(EVENTS_PATH).set('x-api-key', SECRET).send(event as object).expect(200, { outcome: 'duplicate' });
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
    expect(a.changes.map((change) => change.change)).toEqual(['activated']);
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
