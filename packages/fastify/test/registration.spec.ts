import type { Emulator } from '@meterkit/emulator';
import type { CustomerRecord, Metering } from '@meterkit/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { meterkit } from '../src';
import { appWith, emulator, flushHour, meteringFor, PRODUCT } from './support/world';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the registration route', () => {
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance;

  beforeEach(async () => {
    emu = await emulator();
    metering = meteringFor(emu);
  });
  afterEach(async () => {
    await app?.close();
    await metering.close().catch(() => undefined);
    await emu.close();
  });

  async function listen(instance: FastifyInstance): Promise<string> {
    await instance.listen({ port: 0, host: '127.0.0.1' });
    const address = instance.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    return `http://127.0.0.1:${address.port}`;
  }

  it('registers a buyer posted by AWS Marketplace over a real port, links the tenant, and meters it', async () => {
    const registered: Array<{ customer: CustomerRecord; freeTrial: boolean }> = [];
    app = await appWith(metering, {
      registration: {
        path: '/marketplace/register',
        onRegistered: (customer, _request, { freeTrial }) => {
          registered.push({ customer, freeTrial });
          return { tenantId: 'tenant-new', redirect: '/welcome?ref=abc' };
        },
      },
    });
    app.get('/reports', { config: { metering: { dimension: 'api_calls' } } }, async () => ({ reports: [] }));
    const base = await listen(app);

    const buyer = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${base}/marketplace/register`, offerType: 'free-trial' });

    expect(buyer.registration).toMatchObject({ status: 303, location: '/welcome?ref=abc' });
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({ freeTrial: true, customer: { identity: { licenseArn: buyer.licenseArn, productCode: PRODUCT } } });
    const stored = await metering.listCustomers();
    expect(stored.map((c) => [c.tenantId, c.identity.kind === 'license' && c.identity.licenseArn])).toEqual([['tenant-new', buyer.licenseArn]]);

    const response = await fetch(`${base}/reports`, { headers: { 'x-tenant': 'tenant-new' } });
    expect(response.status).toBe(200);
    await response.text();
    await flushHour(emu, metering);
    expect(emu.inspect.totalFor({ licenseArn: buyer.licenseArn!, dimension: 'api_calls' })).toBe(1);
  });

  it('answers JSON when no redirect is configured', async () => {
    app = await appWith(metering, { registration: { path: '/register' } });
    const { token } = await emu.subscribe({ productCode: PRODUCT });
    const response = await app.inject({ method: 'POST', url: '/register', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }, payload: `x-amzn-marketplace-token=${encodeURIComponent(token)}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ registered: true, productCode: PRODUCT });
  });

  it('answers bad input with a 4xx and an error code, never a 500', async () => {
    app = await appWith(metering, { registration: { path: '/register', redirectTo: '/welcome', maxBodyBytes: 1024 } });
    const { token } = await emu.subscribe({ productCode: PRODUCT });
    const post = (payload: string, headers: Record<string, string> = FORM) => app.inject({ method: 'POST', url: '/register', headers, payload });
    const answer = async (payload: string, headers?: Record<string, string>) => {
      const response = await post(payload, headers);
      return [response.statusCode, response.json<{ error: { code: string } }>().error.code];
    };

    expect(await answer('')).toEqual([400, 'ERR_METERKIT_TOKEN_MALFORMED']);
    expect(await answer('other=1')).toEqual([400, 'ERR_METERKIT_TOKEN_MALFORMED']);
    expect(await answer('x-amzn-marketplace-token=a&x-amzn-marketplace-token=b')).toEqual([400, 'ERR_METERKIT_TOKEN_MALFORMED']);
    expect(await answer('x-amzn-marketplace-token=%E0%A4%A')).toEqual([400, 'ERR_METERKIT_TOKEN_MALFORMED']);
    expect(await answer('x-amzn-marketplace-token=not-a-real-token')).toEqual([400, 'ERR_METERKIT_TOKEN_INVALID']);
    expect(await answer(`x-amzn-marketplace-token=${'a'.repeat(2000)}`)).toEqual([413, 'ERR_METERKIT_TOKEN_MALFORMED']);
    expect(await answer(JSON.stringify({ 'x-amzn-marketplace-token': token }), { 'content-type': 'application/json' })).toEqual([415, 'ERR_METERKIT_TOKEN_MALFORMED']);
    expect(await answer(`x-amzn-marketplace-token=${token}`, { 'content-type': 'text/plain' })).toEqual([415, 'ERR_METERKIT_TOKEN_MALFORMED']);

    emu.clock.advance(5 * 3_600_000);
    expect(await answer(`x-amzn-marketplace-token=${encodeURIComponent(token)}`)).toEqual([400, 'ERR_METERKIT_TOKEN_EXPIRED']);
    expect(await metering.listCustomers()).toEqual([]);
  });

  it('answers 503, not 500, when the app\'s hook fails, and the same token works again', async () => {
    let fail = true;
    app = await appWith(metering, {
      registration: {
        path: '/register',
        onRegistered: () => {
          if (fail) throw new Error('tenants table unavailable');
          return { tenantId: 'tenant-retry', redirect: '/welcome' };
        },
      },
    });
    const { token } = await emu.subscribe({ productCode: PRODUCT });
    const payload = `x-amzn-marketplace-token=${encodeURIComponent(token)}`;
    const first = await app.inject({ method: 'POST', url: '/register', headers: FORM, payload });
    expect([first.statusCode, first.json().error.code]).toEqual([503, 'ERR_METERKIT_STORE']);
    fail = false;
    const second = await app.inject({ method: 'POST', url: '/register', headers: FORM, payload });
    expect([second.statusCode, second.headers.location]).toEqual([303, '/welcome']);
    expect((await metering.listCustomers()).map((c) => c.tenantId)).toEqual(['tenant-retry']);
  });

  it('rate-limits registration posts per client address', async () => {
    app = await appWith(metering, { registration: { path: '/register', rateLimitPerMinute: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.inject({ method: 'POST', url: '/register', headers: FORM, payload: 'x-amzn-marketplace-token=bad' })).statusCode);
    const other = await app.inject({ method: 'POST', url: '/register', headers: FORM, payload: 'x-amzn-marketplace-token=bad', remoteAddress: '10.0.0.9' });

    expect(statuses).toEqual([400, 400, 429]);
    expect(other.statusCode).toBe(400);
    const limited = await app.inject({ method: 'POST', url: '/register', headers: FORM, payload: 'x-amzn-marketplace-token=bad' });
    expect(limited.json()).toEqual({ error: { code: 'ERR_METERKIT_RATE_LIMITED', message: expect.any(String) } });
  });

  it('adds no content-type parser to the app\'s own routes', async () => {
    app = await appWith(metering, { registration: { path: '/register' } });
    app.post('/notes', async (request) => ({ body: request.body }));
    await app.ready();

    expect(app.hasContentTypeParser('application/x-www-form-urlencoded')).toBe(false);
    expect(app.hasContentTypeParser('application/json')).toBe(true);
    const form = await app.inject({ method: 'POST', url: '/notes', headers: FORM, payload: 'a=1' });
    expect(form.statusCode).toBe(415);
    expect(form.json().code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
    const json = await app.inject({ method: 'POST', url: '/notes', payload: { a: 1 } });
    expect(json.json()).toEqual({ body: { a: 1 } });
  });

  it('refuses a registration path that is not a path', async () => {
    app = await appWith(metering, { manageLifecycle: false });
    const bad = Fastify();
    await expect(bad.register(meterkit, { metering, identify: () => undefined, registration: { path: 'register' } })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await bad.close();
  });
});
