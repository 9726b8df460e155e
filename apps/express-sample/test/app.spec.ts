import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import request from 'supertest';
import { DIMENSIONS } from '../src/api';
import { buildApp, REGISTRATION_PATH, type SampleApp } from '../src/app';
import { serve, type RunningServer } from '../src/serve';

const PRODUCT = 'prod-sample-api';

describe('express-sample: a metered SaaS API', () => {
  let emu: Emulator;
  let metering: Metering;
  let sample: SampleApp;
  let running: RunningServer;

  beforeEach(async () => {
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }] });
    metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    sample = buildApp({ metering, startScheduler: false, registrationRateLimit: 5 });
    running = await serve(sample.app, sample.mk, 0, '127.0.0.1');
  });
  afterEach(async () => {
    await running.stop().catch(() => undefined);
    await emu.close();
  });

  /** A buyer subscribes in the emulator, which posts the token to the sample; the buyer follows the redirect. */
  async function subscribe(): Promise<{ apiKey: string; licenseArn: string; location: string }> {
    const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${running.url}${REGISTRATION_PATH}` });
    expect(subscription.registration).toMatchObject({ status: 303, location: expect.stringMatching(/^\/welcome\?ref=[\w-]{32}$/) });
    const location = subscription.registration!.location!;
    const welcome = await request(sample.app).get(location).expect(200).expect('cache-control', 'no-store').expect('referrer-policy', 'no-referrer');
    const apiKey = /id="api-key">([^<]+)</.exec(welcome.text)?.[1];
    expect(apiKey).toMatch(/^sk_/);
    return { apiKey: apiKey!, licenseArn: subscription.licenseArn!, location };
  }

  async function closeHourAndFlush(): Promise<void> {
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.flush();
  }

  it('registers a buyer end to end: token posted by the emulator, customer stored and linked to a new tenant, key shown once', async () => {
    const { apiKey, licenseArn, location } = await subscribe();
    expect(location).not.toContain(apiKey);
    await request(sample.app).get(location).expect(410);

    const [customer] = await metering.listCustomers();
    expect(customer).toMatchObject({ identity: { licenseArn }, status: 'registered' });
    const tenant = sample.tenants.authenticate(apiKey);
    expect(tenant).toMatchObject({ id: customer!.tenantId, customerKey: customer!.key });
    await request(sample.app).get('/v1/reports').set('authorization', `Bearer ${apiKey}`).expect(200);
  });

  it('bills api_calls per route and rows_exported computed in the handler, per tenant, with exact totals', async () => {
    const acme = await subscribe();
    const globex = await subscribe();
    const agent = request(sample.app);
    for (let i = 0; i < 5; i++) await agent.get('/v1/reports').set('authorization', `Bearer ${acme.apiKey}`).expect(200);
    await agent.get('/v1/reports/churn-cohorts').set('x-api-key', acme.apiKey).expect(200);
    await agent.get('/v1/catalog').set('x-api-key', globex.apiKey).expect(200);
    const exported = await agent.post('/v1/exports').set('x-api-key', globex.apiKey).send({ report: 'daily-active-users', limit: 700 }).expect(201);
    expect(exported.body.rows).toBe(700);
    await agent.post('/v1/exports').set('x-api-key', globex.apiKey).send({ report: 'revenue-by-region' }).expect(201);

    await closeHourAndFlush();
    const billed = (licenseArn: string, dimension: string) => emu.inspect.totalFor({ licenseArn, dimension });
    expect([billed(acme.licenseArn, 'api_calls'), billed(acme.licenseArn, 'rows_exported')]).toEqual([6, 0]);
    expect([billed(globex.licenseArn, 'api_calls'), billed(globex.licenseArn, 'rows_exported')]).toEqual([3, 748]);
  });

  it('serves anonymous callers of public routes unmetered and refuses the paid API without a valid key', async () => {
    const acme = await subscribe();
    const agent = request(sample.app);
    await agent.get('/v1/catalog').expect(200);
    await agent.get('/health').expect(200, { status: 'ok' });
    await agent.get('/v1/reports').expect(401);
    await agent.get('/v1/reports').set('authorization', 'Bearer sk_not-a-key').expect(401);
    await agent.get('/v1/reports').set('authorization', `Basic ${acme.apiKey}`).expect(401);
    await agent.post('/v1/exports').set('x-api-key', acme.apiKey).set('content-type', 'application/json').send('{"report":').expect(400);
    await agent.post('/v1/exports').set('x-api-key', acme.apiKey).send({ report: 'no-such-report', limit: 5 }).expect(400);
    await agent.get('/v1/reports/no-such-report').set('x-api-key', acme.apiKey).expect(404);
    await agent.get('/v1/no-such-route').set('x-api-key', acme.apiKey).expect(404);

    await closeHourAndFlush();
    // Refused answers (4xx) are not billed by the default commit policy: nothing reached AWS for acme.
    expect(emu.inspect.totalFor({ licenseArn: acme.licenseArn, dimension: 'api_calls' })).toBe(0);
    expect(emu.inspect.totalFor({ licenseArn: acme.licenseArn, dimension: 'rows_exported' })).toBe(0);
  });

  it('answers bad registration posts with 4xx, never 500, and rate-limits them', async () => {
    const agent = request(sample.app);
    const statuses = [
      (await agent.post(REGISTRATION_PATH).type('form').send({ 'x-amzn-marketplace-token': 'forged' })).status,
      (await agent.post(REGISTRATION_PATH).set('content-type', 'application/json').send('{}')).status,
      (await agent.post(REGISTRATION_PATH).type('form').send(`x-amzn-marketplace-token=${'a'.repeat(20_000)}`)).status,
      (await agent.post(REGISTRATION_PATH).type('form').send('x-amzn-marketplace-token=%ZZ')).status,
      (await agent.post(REGISTRATION_PATH).type('form').send('')).status,
      (await agent.post(REGISTRATION_PATH).type('form').send({ 'x-amzn-marketplace-token': 'forged' })).status,
    ];
    expect(statuses).toEqual([400, 415, 413, 400, 400, 429]);
    expect(await metering.listCustomers()).toEqual([]);
  });

  it('reissues the key when the same registration link is posted again, and the old key stops working', async () => {
    const subscription = await emu.subscribe({ productCode: PRODUCT });
    const post = () => request(sample.app).post(REGISTRATION_PATH).type('form').send({ 'x-amzn-marketplace-token': subscription.token }).expect(303);
    const keyFrom = async (location: string) => /id="api-key">([^<]+)</.exec((await request(sample.app).get(location)).text)![1]!;
    const first = await keyFrom((await post()).headers.location!);
    const second = await keyFrom((await post()).headers.location!);
    expect(second).not.toBe(first);
    expect(sample.tenants.authenticate(first)).toBeUndefined();
    expect(sample.tenants.authenticate(second)?.id).toBe((await metering.listCustomers())[0]!.tenantId);
    expect(await metering.listCustomers()).toHaveLength(1);
  });

  it('shuts down gracefully: stops accepting connections, lets a request in flight finish, then persists its usage', async () => {
    const acme = await subscribe();
    let reached!: () => void;
    let release!: () => void;
    const handlerReached = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    sample.app.get('/slow-report', sample.mk.count('api_calls', 5), (_req, res) => {
      reached();
      void released.then(() => res.json({ done: true }));
    });
    const persisted: number[] = [];
    metering.on('persisted', (e) => persisted.push(e.quantity));

    const inFlight = request(running.url).get('/slow-report').set('x-api-key', acme.apiKey).then((res) => res.status);
    await handlerReached;
    const stopped = running.stop();
    await expect(request(running.url).get('/health')).rejects.toThrow(/ECONNREFUSED/);
    release();
    expect(await inFlight).toBe(200);
    await stopped;
    expect(persisted.reduce((a, b) => a + b, 0)).toBe(5);
  });
});
