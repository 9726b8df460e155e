import 'reflect-metadata';
import { Body, Controller, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import type { Metering, MeterkitError, SubscriptionEvent } from '@meterkit/core';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METERING, MeteringModule, type MeteringModuleOptions } from '../src';
import { ReportsController } from './support/controllers';
import { coreOptions, DIMENSIONS, PRODUCT } from './support/emulator';

const EVENTS_PATH = '/marketplace/events';
const REGISTER_PATH = '/marketplace/register';
const SECRET = 'an-api-destination-secret-0123456789';
const at = (iso: string): number => Date.parse(iso);

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: unknown): { body: unknown } {
    return { body: body ?? null };
  }
}

type PlatformName = 'express' | 'fastify';

interface App {
  emu: Emulator;
  metering: Metering;
  app: INestApplication;
  url: string;
  changes: SubscriptionEvent[];
  errors: MeterkitError[];
  close(): Promise<void>;
}

/**
 * The platform's server listens first (Express: the adapter's app as request handler; Fastify: serverFactory), so
 * the emulator can deliver events to the app's real URL and lifecycle path with the connection's secret header.
 */
async function startApp(platform: PlatformName, rawBody: boolean, overrides: Partial<MeteringModuleOptions> = {}): Promise<App> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const emu = await startEmulator({
    now: at('2026-07-15T10:20:00Z'),
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
  });
  const changes: SubscriptionEvent[] = [];
  const errors: MeterkitError[] = [];
  let tenants = 0;
  const moduleRef = await Test.createTestingModule({
    imports: [
      MeteringModule.forRoot({
        ...coreOptions(emu),
        identify: (req: { headers: Record<string, string | undefined> }) => req.headers['x-tenant'],
        onMeteringError: (error) => errors.push(error),
        registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, onRegistered: () => ({ tenantId: `tenant-${++tenants}` }) },
        lifecycle: { path: EVENTS_PATH, secret: SECRET, maxBodyBytes: 8192 },
        onSubscriptionChange: (event) => {
          changes.push(event);
        },
        ...overrides,
      } as MeteringModuleOptions),
    ],
    controllers: [ReportsController, EchoController],
  }).compile();
  let app: INestApplication;
  if (platform === 'express') {
    const adapter = new ExpressAdapter();
    server.on('request', adapter.getInstance());
    app = moduleRef.createNestApplication(adapter, { logger: false, rawBody });
    await app.init();
  } else {
    const adapter = new FastifyAdapter({ serverFactory: (handler: RequestListener) => server.on('request', handler) });
    app = moduleRef.createNestApplication(adapter, { logger: false, rawBody });
    await app.init();
    await adapter.getInstance().ready();
  }
  return {
    emu,
    metering: app.get<Metering>(METERING),
    app,
    url,
    changes,
    errors,
    async close() {
      await app.close();
      await emu.close();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each<PlatformName>(['express', 'fastify'])('the lifecycle route on %s', (platform) => {
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

  it.each([false, true])('refuses forged, unauthenticated, oversized and malformed deliveries with a 4xx and changes nothing (rawBody: %s)', async (rawBody) => {
    a = await startApp(platform, rawBody);
    const { licenseArn } = await subscribeAndRegister();
    await a.emu.cancel(licenseArn);
    const deprovision = a.emu.inspect.events().find((e) => e.detailType.startsWith('License Deprovisioned'))!.body as Record<string, unknown>;
    // A second app that has seen none of it receives the deliveries.
    const fresh = await startApp(platform, rawBody);
    others.push(fresh);
    const before = await fresh.metering.listCustomers();
    const body = JSON.stringify(deprovision);
    const post = async (headers: Record<string, string>, payload: string) =>
      (await fetch(`${fresh.url}${EVENTS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload })).status;
    const statuses = [
      await post({}, body),
      await post({ 'x-api-key': 'not-the-secret-not-the-secret' }, body),
      await post({ 'x-api-key': `${SECRET}x` }, body),
      await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, source: 'evil.source' })),
      await post({ 'x-api-key': SECRET }, '{"detail-type": "License Deprovisioned"'),
      await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, padding: 'x'.repeat(9000) })),
      await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, padding: 'x'.repeat(300_000) })),
      await post({ 'x-api-key': SECRET }, ''),
      await post({ 'x-amz-sns-message-type': 'Notification', 'content-type': 'text/plain; charset=UTF-8' }, body),
    ];
    expect(statuses.map((s) => (s >= 400 && s < 500 ? s : `not a 4xx: ${s}`))).toEqual([401, 401, 401, 400, 400, 413, 413, 400, 404]);
    expect(await fresh.metering.listCustomers()).toEqual(before);
    expect(fresh.changes).toEqual([]);

    const accepted = await fetch(`${fresh.url}${EVENTS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': SECRET }, body });
    expect([accepted.status, await accepted.json()]).toEqual([200, { outcome: 'applied' }]);
    expect(await fresh.metering.listCustomers()).toHaveLength(1);
  });

  it("leaves the app's body parsing alone, and deliveries are never metered", async () => {
    const identified: string[] = [];
    a = await startApp(platform, false, {
      identify: (req: { url: string; headers: Record<string, string | undefined> }) => {
        identified.push(req.url);
        return req.headers['x-tenant'];
      },
    });
    const echo = await fetch(`${a.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":"json"}' });
    expect(await echo.json()).toEqual({ body: { hello: 'json' } });

    const { tenant, key } = await subscribeAndRegister();
    const event = JSON.stringify(a.emu.inspect.events()[2]!.body);
    const delivery = await fetch(`${a.url}${EVENTS_PATH}`, { method: 'POST', headers: { 'x-tenant': tenant, 'x-api-key': SECRET, 'content-type': 'application/json' }, body: event });
    expect(await delivery.json()).toEqual({ outcome: 'duplicate' });
    // identify runs for routes that declare metering (here without a tenant: nothing billed), never for deliveries.
    await fetch(`${a.url}/reports`);
    expect(identified).toEqual(['/reports']);
    a.emu.clock.set(at('2026-07-15T11:11:00Z'));
    await a.metering.flush();
    expect(a.emu.inspect.records()).toEqual([]);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
  });

  it('still applies the event when onSubscriptionChange fails', async () => {
    a = await startApp(platform, false, {
      onSubscriptionChange: async () => {
        throw new Error('grant service down');
      },
    });
    const { key } = await subscribeAndRegister();
    expect(a.emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
  });
});
