import { ErrorCodes } from '@meterkit/core';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { type MeterkitOptions } from '../src';
import { listen, PRODUCT, REGISTER_PATH, startWorld, type World } from './support/world';

const FORM = 'application/x-www-form-urlencoded';

describe('the registration route', () => {
  let world: World;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await world.close();
  });

  async function start(registration: Partial<NonNullable<MeterkitOptions['registration']>> = {}): Promise<World> {
    world = await startWorld({ registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, ...registration } }, (app, mk) => {
      app.get('/reports', mk.count('api_calls'), (req, res) => {
        res.json({ metered: req.meter !== undefined });
      });
    });
    return world;
  }

  it('resolves the token the emulator posts, stores the customer, links it in the hook, and redirects (303)', async () => {
    let tenants = 0;
    await start({
      onRegistered: (customer, req) => {
        expect(req.path).toBe(REGISTER_PATH);
        return { tenantId: `tenant-${++tenants}`, redirect: `/welcome?product=${customer.identity.productCode}` };
      },
    });
    server = await listen(world.app);
    const subscription = await world.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${server.url}${REGISTER_PATH}` });

    expect(subscription.registration).toMatchObject({ status: 303, location: `/welcome?product=${PRODUCT}` });
    const [customer] = await world.metering.listCustomers();
    expect(customer).toMatchObject({ tenantId: 'tenant-1', status: 'registered', identity: { kind: 'license', licenseArn: subscription.licenseArn } });

    await request(world.app).get('/reports').set('x-tenant', 'tenant-1').expect(200, { metered: true });
    await world.closeHourAndFlush();
    expect(world.billed(subscription.licenseArn!, 'api_calls')).toBe(1);
  });

  it('answers 200 JSON when neither the hook nor redirectTo names a page, and redirectTo when set', async () => {
    await start();
    const { token } = await world.emu.subscribe({ productCode: PRODUCT });
    const answer = await request(world.app).post(REGISTER_PATH).type('form').send({ 'x-amzn-marketplace-token': token }).expect(200);
    expect(answer.body).toEqual({ registered: true, productCode: PRODUCT });
    expect(answer.headers['cache-control']).toBe('no-store');
    await world.close();

    await start({ redirectTo: '/signup' });
    const second = await world.emu.subscribe({ productCode: PRODUCT });
    await request(world.app).post(REGISTER_PATH).type('form').send({ 'x-amzn-marketplace-token': second.token }).expect(303).expect('location', '/signup');
  });

  it('answers 400 with a clear code for a missing, forged, expired, repeated or oversized token; AWS is not asked for malformed ones', async () => {
    await start();
    const agent = request(world.app);
    const post = (body: string, type = FORM) => agent.post(REGISTER_PATH).set('content-type', type).send(body);
    const code = (res: request.Response) => [res.status, res.body.error?.code];

    expect(code(await agent.post(REGISTER_PATH))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post('other=1'))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post('x-amzn-marketplace-token='))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post('x-amzn-marketplace-token=a&x-amzn-marketplace-token=b'))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post(`x-amzn-marketplace-token=${'a'.repeat(5000)}`))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post('x-amzn-marketplace-token=%00%01'))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(world.emu.inspect.calls('ResolveCustomer')).toEqual([]);

    expect(code(await post('x-amzn-marketplace-token=forged-token-123'))).toEqual([400, ErrorCodes.TOKEN_INVALID]);

    const { token } = await world.emu.subscribe({ productCode: PRODUCT });
    world.emu.clock.advance(5 * 3_600_000);
    const expired = await post(`x-amzn-marketplace-token=${encodeURIComponent(token)}`);
    expect(code(expired)).toEqual([400, ErrorCodes.TOKEN_EXPIRED]);
    expect(expired.body.error.message).toMatch(/expired/);
    expect(JSON.stringify(expired.body)).not.toContain(token);
    expect(await world.metering.listCustomers()).toEqual([]);
  });

  it('answers 413 for a body over the cap, 415 for another content type or charset, 400 for a malformed body: never 500', async () => {
    await start({ maxBodyBytes: 1024 });
    const agent = request(world.app);
    const post = () => agent.post(REGISTER_PATH);
    const code = (res: request.Response) => [res.status, res.body.error?.code];

    expect(code(await post().type('form').send(`x-amzn-marketplace-token=${'a'.repeat(2000)}`))).toEqual([413, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', 'application/json').send('{"x-amzn-marketplace-token":"abc"}'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', 'text/plain').send('x-amzn-marketplace-token=abc'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', `${FORM}; charset=utf-16`).send('x-amzn-marketplace-token=abc'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', FORM).set('content-encoding', 'br-nope').send('x'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', FORM).set('content-encoding', 'gzip').send(gzipSync('x-amzn-marketplace-token=abc')))).toEqual([
      415,
      ErrorCodes.TOKEN_MALFORMED,
    ]);
    expect(code(await post().set('content-type', FORM).send('%%%=%E0%A4%A&&=&x-amzn-marketplace-token'))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', FORM).send(Array.from({ length: 50 }, (_, i) => `f${i}=1`).join('&')))).toEqual([
      413,
      ErrorCodes.TOKEN_MALFORMED,
    ]);
    // Not the registration route's method: the app's own routing answers.
    await agent.get(REGISTER_PATH).expect(404);
  });

  it('answers 429 once a client address used up its registrations for the minute', async () => {
    await start({ rateLimitPerMinute: 3 });
    const agent = request(world.app);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await agent.post(REGISTER_PATH).type('form').send({ 'x-amzn-marketplace-token': 'forged' })).status);
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    const limited = await agent.post(REGISTER_PATH).type('form').send({ 'x-amzn-marketplace-token': 'forged' });
    expect(limited.body.error.code).toBe(ErrorCodes.RATE_LIMITED);
    expect(limited.headers['retry-after']).toBe('60');
    expect(world.emu.inspect.calls('ResolveCustomer')).toHaveLength(3);
  });

  it('answers 502 when AWS keeps failing, so the buyer can retry the same link, and 503 when the store is down', async () => {
    await start({ onRegistered: () => ({ tenantId: 'acme' }) });
    const { token } = await world.emu.subscribe({ productCode: PRODUCT });
    const post = () => request(world.app).post(REGISTER_PATH).type('form').send({ 'x-amzn-marketplace-token': token });
    world.emu.faults.failNext('ResolveCustomer', 'InternalServiceErrorException', 10);
    const failed = await post().expect(502);
    expect(failed.body.error.code).toBe(ErrorCodes.REGISTRATION_FAILED);
    world.emu.faults.reset();

    jest.spyOn(world.store, 'getCustomer').mockRejectedValue(new Error('connection refused'));
    const unavailable = await post().expect(503);
    expect(unavailable.body.error.code).toBe(ErrorCodes.STORE);
    jest.restoreAllMocks();

    await post().expect(200);
    expect((await world.metering.listCustomers()).map((c) => c.tenantId)).toEqual(['acme']);
  });

  it('hands an error thrown by the hook to Express error handling; the customer stays stored for a retry', async () => {
    await start({
      onRegistered: () => {
        throw new Error('tenant service down');
      },
    });
    const { token } = await world.emu.subscribe({ productCode: PRODUCT });
    const answer = await request(world.app).post(REGISTER_PATH).type('form').send({ 'x-amzn-marketplace-token': token }).expect(500);
    expect(answer.body.error.message).toBe('tenant service down');
    expect(await world.metering.listCustomers()).toHaveLength(1);
  });
});
