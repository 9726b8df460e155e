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
    controllers: [EchoController],
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
  afterEach(async () => {
    await a.close();
  });

  async function subscribeAndRegister(): Promise<{ licenseArn: string; tenant: string; key: string }> {
    const subscription = await a.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${a.url}${REGISTER_PATH}` });
    expect(subscription.registration?.status).toBe(200);
    const customer = (await a.metering.listCustomers()).find((c) => c.identity.kind === 'license' && c.identity.licenseArn === subscription.licenseArn)!;
    return { licenseArn: subscription.licenseArn!, tenant: customer.tenantId!, key: customer.key };
  }

  it.each([false, true])("leaves the app's body parsing alone and reads deliveries from what it parsed or kept (rawBody: %s)", async (rawBody) => {
    a = await startApp(platform, rawBody);
    const echo = await fetch(`${a.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":"json"}' });
    expect(await echo.json()).toEqual({ body: { hello: 'json' } });

    const { key } = await subscribeAndRegister();
    const event = JSON.stringify(a.emu.inspect.events()[2]!.body);
    const post = (body: string) => fetch(`${a.url}${EVENTS_PATH}`, { method: 'POST', headers: { 'x-api-key': SECRET, 'content-type': 'application/json' }, body });
    const delivery = await post(event);
    expect(await delivery.json()).toEqual({ outcome: 'duplicate' });
    // Past the route's cap.
    expect((await post(JSON.stringify({ ...JSON.parse(event), padding: 'x'.repeat(9000) }))).status).toBe(413);
    expect(await a.metering.getCustomer(key)).toMatchObject({ status: 'active' });
    expect(a.changes.map((change) => change.change)).toEqual(['activated']);
  });
});
