import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import type { Express } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DIMENSIONS } from '../src/api';
import { buildApp, EVENTS_PATH, REGISTRATION_PATH, type SampleApp } from '../src/app';

const PRODUCT = 'prod-sample-api';
const SECRET = 'sample-events-secret-0123456789';

describe('express-sample: subscription lifecycle', () => {
  let server: Server;
  let emu: Emulator;
  let metering: Metering;
  let sample: SampleApp;
  let url: string;

  beforeEach(async () => {
    let handler: Express | undefined;
    server = createServer((req, res) => handler!(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emu = await startEmulator({
      now: Date.parse('2026-07-15T10:20:00Z'),
      products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }],
      events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
    });
    metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    sample = buildApp({ metering, startScheduler: false, eventsSecret: SECRET });
    handler = sample.app;
  });
  afterEach(async () => {
    await sample.mk.close().catch(() => undefined);
    await emu.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('revokes the API key when the subscription is cancelled, after its final usage was billed', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${url}${REGISTRATION_PATH}` });
      const welcome = await request(sample.app).get(subscription.registration!.location!).expect(200);
      const apiKey = /id="api-key">([^<]+)</.exec(welcome.text)![1]!;
      expect(emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
      expect(await metering.listCustomers()).toEqual([expect.objectContaining({ status: 'active' })]);
      for (let i = 0; i < 4; i++) await request(sample.app).get('/v1/reports').set('x-api-key', apiKey).expect(200);

      const sent = new Promise<void>((resolve) => metering.once('sent', () => resolve()));
      await emu.cancel(subscription.licenseArn!);
      expect(emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200]);
      await request(sample.app).get('/v1/reports').set('x-api-key', apiKey).expect(401);
      await sent;
      expect(emu.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' })).toBe(4);
      expect(log).toHaveBeenCalledWith(expect.stringMatching(/^subscription deprovisioning: API key of tenant t_/));
    } finally {
      log.mockRestore();
    }
  });

  it('refuses a delivery without the connection secret', async () => {
    const subscription = await emu.subscribe({ productCode: PRODUCT });
    const event = emu.inspect.events().at(-1)!.body as object;
    await request(sample.app).post(EVENTS_PATH).send(event).expect(401);
    await request(sample.app).post(EVENTS_PATH).set('x-api-key', SECRET).send(event).expect(200, { outcome: 'duplicate' });
    expect(subscription.licenseArn).toBeDefined();
  });
});
