import type { Emulator } from '@meterkit/emulator';
import { ErrorCodes, type Metering, type MeteringOptions } from '@meterkit/core';
import type { FastifyInstance } from 'fastify';
import type { MeterkitPluginOptions } from '../src';
import { appWith, DIMENSIONS, emulator, flushHour, meteringFor, PRODUCT } from './support/world';

const TOKEN = 'status-token-0123456789';
const PRODUCT_MODE: Partial<MeteringOptions> = { products: [{ productCode: PRODUCT, dimensions: DIMENSIONS, identity: 'product' }] };

/** MeterUsage quantities the emulator accepted, per dimension and hour. */
function meterUsageTotals(emu: Emulator): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of emu.inspect.records()) {
    expect(r.operation).toBe('MeterUsage');
    const key = `${r.dimension}@${new Date(r.hour).toISOString()}`;
    totals[key] = (totals[key] ?? 0) + r.quantity;
  }
  return totals;
}

describe('AMI and container products (identity: product) through the plugin', () => {
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance | undefined;

  beforeEach(async () => {
    emu = await emulator();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await metering.close().catch(() => undefined);
    await emu.close();
  });

  async function start(options: Partial<MeterkitPluginOptions> = {}, core: Partial<MeteringOptions> = {}): Promise<FastifyInstance> {
    metering = meteringFor(emu, { ...PRODUCT_MODE, ...core });
    const instance = await appWith(metering, { manageLifecycle: false, ...options });
    instance.get('/reports', { config: { metering: { dimension: 'api_calls' } } }, async () => ({ reports: [] }));
    instance.post<{ Body: { items: number[] } }>('/process', { config: { metering: { dimension: 'api_calls' } } }, async (request) => {
      request.meter?.record('gb_processed', request.body.items.length);
      return { processed: request.body.items.length };
    });
    await instance.ready();
    return instance;
  }
  const get = (url: string, tenant?: string) => app!.inject({ url, headers: tenant === undefined ? {} : { 'x-tenant': tenant } });

  it('sends route-config and handler usage of any tenant as MeterUsage with exact totals per dimension and hour', async () => {
    app = await start();
    for (const tenant of ['acme', 'globex', 'initech']) expect((await get('/reports', tenant)).statusCode).toBe(200);
    const processed = await app.inject({ method: 'POST', url: '/process', headers: { 'x-tenant': 'acme' }, payload: { items: [1, 2, 3, 4, 5] } });
    expect(processed.statusCode).toBe(200);
    await get('/reports'); // identify returns nothing: not usage
    emu.clock.set(Date.parse('2026-07-15T11:30:00Z'));
    await get('/reports', 'globex');
    emu.clock.set(Date.parse('2026-07-15T12:11:00Z'));
    await metering.flush();

    expect(meterUsageTotals(emu)).toEqual({
      'api_calls@2026-07-15T10:00:00.000Z': 4,
      'gb_processed@2026-07-15T10:00:00.000Z': 5,
      'api_calls@2026-07-15T11:00:00.000Z': 1,
    });
    expect(emu.inspect.calls('MeterUsage')).toHaveLength(3);
    expect(emu.inspect.calls('BatchMeterUsage')).toHaveLength(0);
  });

  describe('entitlementGate', () => {
    const registration = { path: '/marketplace/register' };
    const lifecycle = { path: '/marketplace/events', secret: 'events-secret-0123456789' };
    const gated: Partial<MeterkitPluginOptions> = { entitlementGate: true, registration, lifecycle, statusPage: { token: TOKEN } };
    const register = () => metering.registerUsage({ productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: emu.publicKeyPem(1) });

    it('answers the core’s 503 until RegisterUsage verified the entitlement, then serves and meters', async () => {
      app = await start(gated);
      const pending = await get('/reports', 'acme');
      expect(pending.statusCode).toBe(503);
      expect(pending.json()).toEqual({ error: { code: ErrorCodes.ENTITLEMENT_PENDING, message: expect.any(String) } });
      expect([pending.headers['retry-after'], pending.headers['cache-control']]).toEqual(['5', 'no-store']);
      expect((await get('/no-such-route')).statusCode).toBe(503);
      // meterkit's own routes stay reachable.
      expect((await app.inject({ url: '/meterkit/status.json', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: registration.path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' })).statusCode).toBe(400);
      expect((await app.inject({ method: 'POST', url: lifecycle.path, payload: {} })).statusCode).toBe(401);

      await expect(register()).resolves.toMatchObject({ state: 'entitled' });
      expect((await get('/reports', 'acme')).statusCode).toBe(200);
      await flushHour(emu, metering);
      expect(meterUsageTotals(emu)).toEqual({ 'api_calls@2026-07-15T10:00:00.000Z': 1 });
    });

    it('keeps answering 503 with the refusal’s code when AWS refuses the entitlement', async () => {
      app = await start(gated);
      emu.faults.failNext('RegisterUsage', 'CustomerNotEntitledException');
      await expect(register()).rejects.toMatchObject({ code: ErrorCodes.NOT_ENTITLED });
      const refused = await get('/reports', 'acme');
      expect([refused.statusCode, refused.json().error.code, refused.headers['retry-after']]).toEqual([503, ErrorCodes.NOT_ENTITLED, undefined]);
      await flushHour(emu, metering);
      expect(emu.inspect.records()).toEqual([]);
    });

    it('is off by default, and register: true starts RegisterUsage on ready with the core’s entitlement option', async () => {
      app = await start();
      expect((await get('/reports', 'acme')).statusCode).toBe(200);
      await app.close();
      await metering.close();

      const entitlement = { productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: emu.publicKeyPem(1) };
      metering = meteringFor(emu, { ...PRODUCT_MODE, entitlement });
      const registerUsage = jest.spyOn(metering, 'registerUsage');
      app = await appWith(metering, { manageLifecycle: false, entitlementGate: { register: true } });
      app.get('/r', async () => 'ok');
      expect(registerUsage).not.toHaveBeenCalled();
      await app.ready();
      expect(registerUsage).toHaveBeenCalledTimes(1);
      expect((await get('/r')).statusCode).toBe(503);
      await expect(registerUsage.mock.results[0]!.value).resolves.toMatchObject({ state: 'entitled' });
      expect(emu.inspect.calls('RegisterUsage')).toHaveLength(1);
      expect((await get('/r')).statusCode).toBe(200);
    });
  });
});
