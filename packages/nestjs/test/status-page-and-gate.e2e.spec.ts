import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { Emulator } from '@meterkit/emulator';
import { ErrorCodes, type Metering, type MeteringOptions } from '@meterkit/core';
import { METERING, MeteringModule, type MeteringModuleOptions } from '../src';
import { ReportsController, UploadsController } from './support/controllers';
import { coreOptions, DIMENSIONS, PRODUCT, startProductEmulator } from './support/emulator';
import { listen, PLATFORMS, type Platform } from './support/platforms';

const TOKEN = 'status-token-0123456789';
const REGISTER = '/marketplace/register';
const EVENTS = { path: '/marketplace/events', secret: 'events-secret-0123456789' };
const PRODUCT_MODE: Partial<MeteringOptions> = { products: [{ productCode: PRODUCT, dimensions: DIMENSIONS, identity: 'product' }] };

function sentOnPage(html: string): number {
  const match = /id="count-sent">(\d+)</.exec(html);
  if (match === null) throw new Error('no sent count on the page');
  return Number(match[1]);
}

function meterUsageTotals(emu: Emulator): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of emu.inspect.records()) {
    expect(r.operation).toBe('MeterUsage');
    const key = `${r.dimension}@${new Date(r.hour).toISOString()}`;
    totals[key] = (totals[key] ?? 0) + r.quantity;
  }
  return totals;
}

describe.each(PLATFORMS)('statusPage and entitlementGate on %s', (_name, platform: Platform) => {
  let emu: Emulator;
  let app: INestApplication | undefined;
  let identified: number;

  beforeEach(async () => {
    emu = await startProductEmulator();
    identified = 0;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await emu.close();
  });

  async function start(overrides: Partial<MeteringModuleOptions>, core: Partial<MeteringOptions> = PRODUCT_MODE): Promise<{ url: string; metering: Metering }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MeteringModule.forRoot({
          ...coreOptions(emu),
          ...core,
          identify: (req: { headers: Record<string, string | undefined> }) => {
            identified += 1;
            return req.headers['x-tenant'];
          },
          ...overrides,
        } as MeteringModuleOptions),
      ],
      controllers: [ReportsController, UploadsController],
    }).compile();
    app = platform.create(moduleRef);
    return { url: await listen(app), metering: app.get<Metering>(METERING) };
  }

  it('status page: 401 without the token, HTML and JSON with the core’s headers and figures, never metered', async () => {
    const { url, metering } = await start({ statusPage: { token: TOKEN } });
    for (let i = 0; i < 3; i++) await request(url).get('/reports').set('x-tenant', 'acme').expect(200);
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.flush();
    const { counts } = await metering.status();
    expect(counts.sent).toBe(1);
    identified = 0;

    const refused = await request(url).get('/meterkit/status').set('x-tenant', 'acme').expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.text).not.toContain('count-sent');
    await request(url).get('/meterkit/status.json').set('authorization', 'Bearer wrong-token-0123456789').expect(401, { error: 'unauthorized' });
    const page = await request(url).get('/meterkit/status').set('x-tenant', 'acme').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(sentOnPage(page.text)).toBe(counts.sent);
    const json = await request(url).get('/meterkit/status.json').set('x-tenant', 'acme').set('x-meterkit-token', TOKEN).expect(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.body).toMatchObject({ sent: counts.sent, pending: 0, lastSuccessfulSendAt: (await metering.status()).lastSuccessfulSendAt });
    expect((await request(url).get('/meterkit/status?format=json').set('authorization', `Bearer ${TOKEN}`).expect(200)).body.sent).toBe(counts.sent);
    const queryToken = await request(url).get(`/meterkit/status.json?token=${TOKEN}`).expect(400);
    expect(queryToken.text).toContain('Authorization: Bearer');
    expect(queryToken.text).not.toContain(TOKEN);
    expect(identified).toBe(0);
    expect(meterUsageTotals(emu)).toEqual({ 'api_calls@2026-07-15T10:00:00.000Z': 3 });

    const off = jest.spyOn(metering, 'off');
    await app!.close();
    app = undefined;
    expect(off).toHaveBeenCalledWith('error', expect.any(Function));
  });

  it('status page: the login form sets an HttpOnly, SameSite=Strict session cookie that opens the page until logout', async () => {
    const { url } = await start({ statusPage: { token: TOKEN } });
    const agent = request.agent(url);
    const form = await agent.get('/meterkit/status').expect(401);
    expect(form.text).toContain('<form method="post" action="status" id="login">');
    await agent.post('/meterkit/status').type('form').send({ token: 'wrong-token-0123456789' }).expect(401);
    const login = await agent.post('/meterkit/status').type('form').send({ token: TOKEN }).expect(303);
    expect(login.headers['location']).toBe('status');
    expect(login.headers['set-cookie']![0]).toMatch(/^meterkit_status=[^;]+; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(sentOnPage((await agent.get('/meterkit/status').expect(200)).text)).toBe(0);
    await agent.post('/meterkit/status').type('form').send({ logout: '1' }).expect(303);
    await agent.get('/meterkit/status.json').expect(401);
    expect(identified).toBe(0);
  });

  it('status page: a guard on the platform’s request, a custom path, and refused configurations', async () => {
    const { url } = await start({ statusPage: { path: '/ops/metering', guard: (req: { headers: Record<string, string | undefined> }) => req.headers['x-admin'] === 'yes' } });
    await request(url).get('/ops/metering').expect(401);
    await request(url).get('/ops/metering.json').set('x-admin', 'no').expect(401);
    await request(url).get('/ops/metering').set('x-admin', 'yes').expect(200);
    await request(url).get('/ops/metering.json').set('x-admin', 'yes').expect(200);
    await request(url).get('/meterkit/status').set('x-admin', 'yes').expect(404);

    for (const statusPage of [{}, { token: 'short' }, { path: '/ops/:id', token: TOKEN }]) {
      const compiled = Test.createTestingModule({ imports: [MeteringModule.forRoot({ ...coreOptions(emu), statusPage } as MeteringModuleOptions)] }).compile();
      await expect(compiled).rejects.toMatchObject({ code: ErrorCodes.OPTIONS });
    }
  });

  it('product mode: @Metered() and handler usage of any tenant goes out as MeterUsage with exact totals', async () => {
    const { url, metering } = await start({});
    for (const tenant of ['acme', 'globex', 'initech']) await request(url).get('/reports').set('x-tenant', tenant).expect(200);
    await request(url).get('/reports/heavy').set('x-tenant', 'acme').expect(200);
    await request(url).post('/uploads').set('x-tenant', 'globex').send({ gb: 12 }).expect(201, { metered: true });
    await request(url).get('/reports').expect(200); // identify returns nothing: not usage
    emu.clock.set(Date.parse('2026-07-15T11:30:00Z'));
    await request(url).get('/reports').set('x-tenant', 'acme').expect(200);
    emu.clock.set(Date.parse('2026-07-15T12:11:00Z'));
    await metering.flush();
    expect(meterUsageTotals(emu)).toEqual({
      'api_calls@2026-07-15T10:00:00.000Z': 8,
      'gb_processed@2026-07-15T10:00:00.000Z': 14,
      'api_calls@2026-07-15T11:00:00.000Z': 1,
    });
    expect(emu.inspect.calls('BatchMeterUsage')).toHaveLength(0);
  });

  it('entitlement gate: the core’s 503 until entitled, meterkit’s own routes reachable, then served and metered', async () => {
    const { url, metering } = await start({ entitlementGate: true, registration: { path: REGISTER }, lifecycle: EVENTS, statusPage: { token: TOKEN } });
    const pending = await request(url).get('/reports').set('x-tenant', 'acme').expect(503);
    expect(pending.body).toEqual({ error: { code: ErrorCodes.ENTITLEMENT_PENDING, message: expect.any(String) } });
    expect([pending.headers['retry-after'], pending.headers['cache-control']]).toEqual(['5', 'no-store']);
    await request(url).get('/meterkit/status.json').set('authorization', `Bearer ${TOKEN}`).expect(200);
    await request(url).post(REGISTER).type('form').send('').expect(400);
    await request(url).post(EVENTS.path).send({}).expect(401);

    await expect(metering.registerUsage({ productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: emu.publicKeyPem(1) })).resolves.toMatchObject({ state: 'entitled' });
    await request(url).get('/reports').set('x-tenant', 'acme').expect(200);
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.flush();
    expect(meterUsageTotals(emu)).toEqual({ 'api_calls@2026-07-15T10:00:00.000Z': 1 });
  });

  it('entitlement gate: stays 503 with the refusal’s code; register: true starts RegisterUsage on bootstrap', async () => {
    const refused = await start({ entitlementGate: true });
    emu.faults.failNext('RegisterUsage', 'CustomerNotEntitledException');
    await expect(refused.metering.registerUsage({ productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: emu.publicKeyPem(1) })).rejects.toMatchObject({ code: ErrorCodes.NOT_ENTITLED });
    const answer = await request(refused.url).get('/reports').set('x-tenant', 'acme').expect(503);
    expect([answer.body.error.code, answer.headers['retry-after']]).toEqual([ErrorCodes.NOT_ENTITLED, undefined]);
    await app!.close();

    const entitlement = { productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: emu.publicKeyPem(1) };
    const registering = await start({ entitlementGate: { register: true } }, { ...PRODUCT_MODE, entitlement });
    // The call started on bootstrap is running or done: this one joins it.
    await expect(registering.metering.registerUsage()).resolves.toMatchObject({ state: 'entitled' });
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(2);
    await request(registering.url).get('/reports').set('x-tenant', 'acme').expect(200);
  });
});
