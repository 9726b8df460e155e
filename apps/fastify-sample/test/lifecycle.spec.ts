import { startEmulator, type Emulator } from '@meterkit/emulator';
import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import type { FastifyInstance } from 'fastify';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, EVENTS_PATH } from '../src/app';
import { Tenants } from '../src/tenants';

const PRODUCT = 'prod-sample123';
const SECRET = 'sample-events-secret-0123456789';

describe('fastify-sample: subscription lifecycle', () => {
  let server: Server;
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance;
  let base: string;

  beforeEach(async () => {
    // The server listens first: the emulator delivers events to its URL, as an EventBridge API destination.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emu = await startEmulator({
      now: Date.parse('2026-07-15T10:20:00Z'),
      products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }],
      events: { url: `${base}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
    });
    metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    app = await buildApp({
      metering,
      tenants: new Tenants({ clock: () => emu.clock.now() }),
      eventsSecret: SECRET,
      serverFactory: (handler: RequestListener) => server.on('request', handler),
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await emu.close();
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('revokes the API key when the subscription is cancelled, after its final usage was billed', async () => {
    const buyer = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${base}/marketplace/register` });
    const { apiKey } = (await (await fetch(new URL(buyer.registration!.location!, base))).json()) as { apiKey: string };
    expect(emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
    expect(await metering.listCustomers()).toEqual([expect.objectContaining({ status: 'active' })]);
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/v1/reports`, { headers: { 'x-api-key': apiKey } })).status).toBe(200);

    const sent = new Promise<void>((resolve) => metering.once('sent', () => resolve()));
    await emu.cancel(buyer.licenseArn!);
    expect(emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await fetch(`${base}/v1/reports`, { headers: { 'x-api-key': apiKey } })).status).toBe(401);
    await sent;
    expect(emu.inspect.totalFor({ licenseArn: buyer.licenseArn!, dimension: 'api_calls' })).toBe(3);
  });

  it('refuses a delivery without the connection secret', async () => {
    await emu.subscribe({ productCode: PRODUCT });
    const event = JSON.stringify(emu.inspect.events().at(-1)!.body);
    const post = (headers: Record<string, string>) => fetch(`${base}${EVENTS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: event });
    expect((await post({})).status).toBe(401);
    expect(await (await post({ 'x-api-key': SECRET })).json()).toEqual({ outcome: 'duplicate' });
  });
});
