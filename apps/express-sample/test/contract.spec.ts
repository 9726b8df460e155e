import { createMetering, isEntitlementStore, silentLogger, type Metering } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import type { Express } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { buildApp, EVENTS_PATH, REGISTRATION_PATH, type SampleApp } from '../src/app';
import { emulatorProducts, sampleProducts } from '../src/products';

const SUBSCRIPTION = 'prod-sample-api';
const CONTRACT = 'prod-sample-team';
const SECRET = 'sample-events-secret-0123456789';

describe('express-sample: a contract with consumption beside the subscription', () => {
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
      now: Date.parse('2026-07-15T10:05:00Z'),
      products: emulatorProducts(SUBSCRIPTION, CONTRACT),
      events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 },
    });
    metering = createMetering({
      products: sampleProducts(SUBSCRIPTION, CONTRACT),
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

  async function register(productCode: string, contract?: Record<string, number>): Promise<{ apiKey: string; licenseArn: string }> {
    const subscription = await emu.subscribe({ productCode, registrationUrl: `${url}${REGISTRATION_PATH}`, ...(contract === undefined ? {} : { contract: { dimensions: contract } }) });
    expect(subscription.registration).toMatchObject({ status: 303 });
    const welcome = await request(sample.app).get(subscription.registration!.location!).expect(200);
    return { apiKey: /id="api-key">([^<]+)</.exec(welcome.text)![1]!, licenseArn: subscription.licenseArn! };
  }

  const calls = async (apiKey: string, n: number) => {
    for (let i = 0; i < n; i++) await request(sample.app).get('/v1/reports').set('x-api-key', apiKey).expect(200);
  };
  const billed = (licenseArn: string, dimension: string) => emu.inspect.totalFor({ licenseArn, dimension });

  it('reads the contract at registration: the seats route answers the contract buyer and refuses a subscription buyer with 403', async () => {
    const umbrella = await register(CONTRACT, { seats: 5, api_calls: 100 });
    const acme = await register(SUBSCRIPTION);

    const team = await request(sample.app).get('/v1/team').set('x-api-key', umbrella.apiKey).expect(200);
    expect(team.body).toEqual({ seats: 5, contractEndsAt: expect.stringMatching(/^2027-07-15T/), apiCalls: { includedPerMonth: 100, usedThisMonth: 0, withinQuota: true } });

    const refused = await request(sample.app).get('/v1/team').set('x-api-key', acme.apiKey).expect(403);
    expect(refused.body.error.code).toBe('ERR_METERKIT_ENTITLEMENT_REQUIRED');
    await request(sample.app).get('/v1/team').expect(401);
    // The subscription product works as before: its routes answer and bill.
    await calls(acme.apiKey, 3);
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.flush();
    expect(billed(acme.licenseArn, 'api_calls')).toBe(3);
    // The seats route's 403 bills nothing; the contract buyer's one call is within its quota.
    expect(billed(umbrella.licenseArn, 'api_calls')).toBe(0);
  });

  it('bills only the API calls above the monthly quota, across hours; exported rows are billed in full', async () => {
    const umbrella = await register(CONTRACT, { seats: 5, api_calls: 100 });
    await calls(umbrella.apiKey, 60);
    await request(sample.app).post('/v1/exports').set('x-api-key', umbrella.apiKey).send({ report: 'revenue-by-region' }).expect(201);
    emu.clock.set(Date.parse('2026-07-15T11:20:00Z'));
    await metering.flush();
    expect(billed(umbrella.licenseArn, 'api_calls')).toBe(0);
    expect(billed(umbrella.licenseArn, 'rows_exported')).toBe(48);

    // 61 of July's 100 used; 70 more in the 11:00 hour: 31 above the quota.
    await calls(umbrella.apiKey, 70);
    await metering.persist();
    // Past the instance's entitlement cache (5 s), so the request reads the counters the persist wrote.
    emu.clock.set(Date.parse('2026-07-15T11:30:00Z'));
    const team = await request(sample.app).get('/v1/team').set('x-api-key', umbrella.apiKey).expect(200);
    expect(team.body.apiCalls).toEqual({ includedPerMonth: 100, usedThisMonth: 131, withinQuota: false });
    emu.clock.set(Date.parse('2026-07-15T12:11:00Z'));
    await metering.flush();
    // 132 calls in July (the /v1/team call included), 100 included.
    expect(billed(umbrella.licenseArn, 'api_calls')).toBe(32);
  });

  it('an amendment raising the quota includes more from then on; nothing already billed is taken back', async () => {
    const umbrella = await register(CONTRACT, { seats: 5, api_calls: 100 });
    await calls(umbrella.apiKey, 120);
    await metering.persist();
    emu.clock.set(Date.parse('2026-07-15T10:40:00Z'));
    await emu.amend(umbrella.licenseArn, { dimensions: { seats: 10, api_calls: 200 } });
    emu.clock.set(Date.parse('2026-07-15T10:41:00Z'));
    const team = await request(sample.app).get('/v1/team').set('x-api-key', umbrella.apiKey).expect(200);
    expect(team.body).toMatchObject({ seats: 10, apiCalls: { includedPerMonth: 200, usedThisMonth: 120, withinQuota: true } });
    // Read again because of the amendment's event, delivered to the lifecycle route.
    const store = metering.store;
    if (!isEntitlementStore(store)) throw new Error('the memory store keeps entitlements');
    expect((await store.getEntitlements(`license:${umbrella.licenseArn}`))?.trigger).toMatch(/^event:/);
    await calls(umbrella.apiKey, 50);
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.flush();
    // The first 120 were persisted against 100 (20 above); the next 51 against 200 (none above).
    expect(billed(umbrella.licenseArn, 'api_calls')).toBe(20);
  });
});

describe('express-sample: without a contract product', () => {
  it('has no seats route, and builds without one (requireEntitlement would refuse a dimension no product lists)', async () => {
    const metering = createMetering({
      products: sampleProducts(SUBSCRIPTION),
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      logger: silentLogger,
      autoStart: false,
    });
    const sample = buildApp({ metering, startScheduler: false });
    try {
      const apiKey = sample.tenants.issueApiKey(sample.tenants.create('tenant without a customer').id);
      await request(sample.app).get('/v1/reports').set('x-api-key', apiKey).expect(200);
      await request(sample.app).get('/v1/team').set('x-api-key', apiKey).expect(404);
      expect(() => sample.mk.requireEntitlement('seats')).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_UNKNOWN_DIMENSION' }));
    } finally {
      await sample.mk.close();
    }
  });
});
