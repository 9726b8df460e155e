import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { silentLogger, type Metering } from '@meterkit/core';
import { METERING } from '@meterkit/nestjs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule, EVENTS_PATH } from '../src/app.module';
import { DIMENSIONS, SAMPLE_PRODUCT } from '../src/config/sample-config';

const SECRET = 'sample-events-secret-0123456789';

describe.each(['express', 'fastify'] as const)('nestjs-sample on %s: subscription lifecycle', (platform) => {
  let server: Server;
  let emu: Emulator;
  let app: INestApplication;
  let url: string;

  beforeEach(async () => {
    // The server listens first: the emulator delivers events to its URL, as an EventBridge API destination.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emu = await startEmulator({
      now: Date.parse('2026-07-15T10:20:00Z'),
      products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
      events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          metering: {
            products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
            store: 'memory',
            aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
            clock: () => emu.clock.now(),
            logger: silentLogger,
            autoStart: false,
          },
          eventsSecret: SECRET,
        }),
      ],
    }).compile();
    if (platform === 'express') {
      const adapter = new ExpressAdapter();
      server.on('request', adapter.getInstance());
      app = moduleRef.createNestApplication(adapter, { logger: false, rawBody: true });
      await app.init();
    } else {
      const adapter = new FastifyAdapter({ serverFactory: (handler: RequestListener) => server.on('request', handler) });
      app = moduleRef.createNestApplication(adapter, { logger: false, rawBody: true });
      await app.init();
      await adapter.getInstance().ready();
    }
  });
  afterEach(async () => {
    await app.close();
    await emu.close();
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('revokes the API key when the subscription is cancelled, after its final usage was billed', async () => {
    const metering = app.get<Metering>(METERING);
    const subscription = await emu.subscribe({ productCode: SAMPLE_PRODUCT, registrationUrl: `${url}/marketplace/register` });
    const { apiKey } = (await (await fetch(new URL(subscription.registration!.location!, url))).json()) as { apiKey: string };
    expect(emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
    expect(await metering.listCustomers()).toEqual([expect.objectContaining({ status: 'active' })]);
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/v1/reports`, { headers: { 'x-api-key': apiKey } })).status).toBe(200);

    const sent = new Promise<void>((resolve) => metering.once('sent', () => resolve()));
    await emu.cancel(subscription.licenseArn!);
    expect(emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await fetch(`${url}/v1/reports`, { headers: { 'x-api-key': apiKey } })).status).toBe(401);
    await sent;
    expect(emu.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' })).toBe(3);
  });

  it('refuses a delivery without the connection secret', async () => {
    await emu.subscribe({ productCode: SAMPLE_PRODUCT });
    const event = JSON.stringify(emu.inspect.events().at(-1)!.body);
    const post = (headers: Record<string, string>) => fetch(`${url}${EVENTS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: event });
    expect((await post({})).status).toBe(401);
    expect(await (await post({ 'x-api-key': SECRET })).json()).toEqual({ outcome: 'duplicate' });
  });
});
