import { startEmulator, type Emulator } from '@meterkit/emulator';
import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { Tenants } from '../src/tenants';

const PRODUCT = 'prod-sample123';

describe('fastify-sample: a metered SaaS API', () => {
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance;
  let base: string;

  beforeEach(async () => {
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }] });
    metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    app = await buildApp({ metering, tenants: new Tenants({ clock: () => emu.clock.now() }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterEach(async () => {
    await app.close();
    await emu.close();
  });

  /** A buyer subscribes on AWS Marketplace and lands on the welcome page with a fresh API key. */
  async function signUp(): Promise<{ apiKey: string; licenseArn: string }> {
    const buyer = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${base}/marketplace/register` });
    expect(buyer.registration?.status).toBe(303);
    const welcome = await fetch(new URL(buyer.registration!.location!, base));
    expect(welcome.status).toBe(200);
    const { apiKey } = (await welcome.json()) as { apiKey: string };
    return { apiKey, licenseArn: buyer.licenseArn! };
  }

  const closeHourAndFlush = async () => {
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.flush();
  };

  it('signs a buyer up through the registration landing flow and bills its calls exactly', async () => {
    const alice = await signUp();
    const bob = await signUp();

    for (let i = 0; i < 3; i++) {
      const reports = await fetch(`${base}/v1/reports`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
      expect(reports.status).toBe(200);
      await reports.text();
    }
    const processed = await fetch(`${base}/v1/process`, {
      method: 'POST',
      headers: { 'x-api-key': bob.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ files: [{ name: 'a.csv', sizeBytes: 1_500_000_000 }, { name: 'b.csv', sizeBytes: 1_000_000_000 }] }),
    });
    expect(await processed.json()).toEqual({ files: 2, gbProcessed: 3 });
    await closeHourAndFlush();

    expect(emu.inspect.totalFor({ licenseArn: alice.licenseArn, dimension: 'api_calls' })).toBe(3);
    expect(emu.inspect.totalFor({ licenseArn: alice.licenseArn, dimension: 'gb_processed' })).toBe(0);
    expect(emu.inspect.totalFor({ licenseArn: bob.licenseArn, dimension: 'api_calls' })).toBe(1);
    expect(emu.inspect.totalFor({ licenseArn: bob.licenseArn, dimension: 'gb_processed' })).toBe(3);
  });

  it('shows a new API key once: the welcome reference is single-use and short-lived', async () => {
    const buyer = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${base}/marketplace/register` });
    const location = buyer.registration!.location!;
    expect((await app.inject({ url: location })).statusCode).toBe(200);
    expect((await app.inject({ url: location })).json()).toMatchObject({ error: { code: 'WELCOME_NOT_FOUND' } });

    const late = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${base}/marketplace/register` });
    emu.clock.advance(11 * 60_000);
    expect((await app.inject({ url: late.registration!.location! })).statusCode).toBe(404);
  });

  it('answers bad input and missing keys with 4xx, and bills none of them', async () => {
    const { apiKey } = await signUp();
    const statusOf = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(`${base}${url}`, init);
      const body = (await response.json()) as { error?: { code: string } };
      return [response.status, body.error?.code];
    };
    const json = { 'content-type': 'application/json', 'x-api-key': apiKey };

    expect(await statusOf('/v1/reports')).toEqual([401, 'UNAUTHORIZED']);
    expect(await statusOf('/v1/reports', { headers: { authorization: 'Bearer sk_wrong' } })).toEqual([401, 'UNAUTHORIZED']);
    expect(await statusOf('/v1/process', { method: 'POST', headers: json, body: '{"files": [' })).toEqual([400, 'FST_ERR_CTP_INVALID_JSON_BODY']);
    expect(await statusOf('/v1/process', { method: 'POST', headers: json, body: JSON.stringify({ files: [{ name: 'x', sizeBytes: -1 }] }) })).toEqual([400, 'FST_ERR_VALIDATION']);
    expect(await statusOf('/v1/process', { method: 'POST', headers: { ...json, 'content-type': 'application/x-www-form-urlencoded' }, body: 'files=1' })).toEqual([415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE']);
    expect(await statusOf('/marketplace/register', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x-amzn-marketplace-token=forged' })).toEqual([400, 'ERR_METERKIT_TOKEN_INVALID']);
    expect(await statusOf('/welcome')).toEqual([400, 'FST_ERR_VALIDATION']);
    await closeHourAndFlush();

    expect(emu.inspect.records()).toEqual([]);
  });
});
