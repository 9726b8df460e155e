import { ErrorCodes, type MeteringEvents } from '@meterkit/core';
import express from 'express';
import request from 'supertest';
import { meterkit } from '../src';
import { DIMENSIONS, PRODUCT, REGISTER_PATH, startWorld, type World } from './support/world';

const TOKEN = 'status-token-0123456789';
const PRODUCT_MODE = { products: [{ productCode: PRODUCT, dimensions: DIMENSIONS, identity: 'product' as const }] };

/** MeterUsage quantities the emulator accepted, per dimension and hour. */
function meterUsageTotals(world: World): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of world.emu.inspect.records()) {
    expect(r.operation).toBe('MeterUsage');
    const key = `${r.dimension}@${new Date(r.hour).toISOString()}`;
    totals[key] = (totals[key] ?? 0) + r.quantity;
  }
  return totals;
}

describe('AMI and container products (identity: product) through the middleware', () => {
  let world: World;
  afterEach(() => world.close());

  const routes = (app: import('express').Express, mk: ReturnType<typeof meterkit>) => {
    app.get('/reports', mk.count('api_calls'), (_req, res) => {
      res.json({ reports: [] });
    });
    app.post('/exports', mk.count('api_calls'), (req, res) => {
      req.meter?.record('rows_exported', Number(req.query.rows));
      res.status(201).json({});
    });
  };

  it('sends count() and handler usage of any tenant as MeterUsage with exact totals per dimension and hour', async () => {
    world = await startWorld({}, routes, PRODUCT_MODE);
    const agent = request(world.app);
    for (const tenant of ['acme', 'globex', 'initech']) await agent.get('/reports').set('x-tenant', tenant).expect(200);
    await agent.post('/exports?rows=250').set('x-tenant', 'acme').expect(201);
    await agent.post('/exports?rows=42').set('x-tenant', 'globex').expect(201);
    await agent.get('/reports').expect(200); // identify returns nothing: not usage
    world.emu.clock.set(Date.parse('2026-07-15T11:30:00Z'));
    await agent.get('/reports').set('x-tenant', 'acme').expect(200);
    world.emu.clock.set(Date.parse('2026-07-15T12:11:00Z'));
    await world.metering.flush();

    expect(meterUsageTotals(world)).toEqual({
      'api_calls@2026-07-15T10:00:00.000Z': 5,
      'rows_exported@2026-07-15T10:00:00.000Z': 292,
      'api_calls@2026-07-15T11:00:00.000Z': 1,
    });
    expect(world.emu.inspect.calls('MeterUsage')).toHaveLength(3);
    expect(world.emu.inspect.calls('BatchMeterUsage')).toHaveLength(0);
  });

  describe('entitlementGate', () => {
    const registration = { path: REGISTER_PATH };
    const lifecycle = { path: '/marketplace/events', secret: 'events-secret-0123456789' };
    const gated = { entitlementGate: true, registration, lifecycle, statusPage: { token: TOKEN } } as const;
    const register = (w: World) => w.metering.registerUsage({ productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: w.emu.publicKeyPem(1) });

    it('answers the core’s 503 until RegisterUsage verified the entitlement, then serves and meters', async () => {
      world = await startWorld(gated, routes, PRODUCT_MODE);
      const agent = request(world.app);
      const pending = await agent.get('/reports').set('x-tenant', 'acme').expect(503);
      expect(pending.body).toEqual({ error: { code: ErrorCodes.ENTITLEMENT_PENDING, message: expect.any(String) } });
      expect(pending.headers['retry-after']).toBe('5');
      expect(pending.headers['cache-control']).toBe('no-store');
      await agent.get('/unknown-route').expect(503);
      // meterkit's own routes stay reachable.
      await agent.get('/meterkit/status.json').set('authorization', `Bearer ${TOKEN}`).expect(200);
      await agent.post(REGISTER_PATH).type('form').send({}).expect(400);
      await agent.post(lifecycle.path).send({}).expect(401);

      await expect(register(world)).resolves.toMatchObject({ state: 'entitled' });
      await agent.get('/reports').set('x-tenant', 'acme').expect(200);
      await world.closeHourAndFlush();
      expect(meterUsageTotals(world)).toEqual({ 'api_calls@2026-07-15T10:00:00.000Z': 1 });
    });

    it('keeps answering 503 with the refusal’s code when AWS refuses the entitlement', async () => {
      world = await startWorld(gated, routes, PRODUCT_MODE);
      world.emu.faults.failNext('RegisterUsage', 'CustomerNotEntitledException');
      await expect(register(world)).rejects.toMatchObject({ code: ErrorCodes.NOT_ENTITLED });
      const refused = await request(world.app).get('/reports').set('x-tenant', 'acme').expect(503);
      expect(refused.body.error.code).toBe(ErrorCodes.NOT_ENTITLED);
      expect(refused.headers['retry-after']).toBeUndefined();
      await world.closeHourAndFlush();
      expect(world.emu.inspect.records()).toEqual([]);
    });

    it('is off by default, and register: true starts RegisterUsage with the core’s entitlement option', async () => {
      world = await startWorld({}, routes, PRODUCT_MODE);
      await request(world.app).get('/reports').set('x-tenant', 'acme').expect(200);
      await world.close();

      const errors: MeteringEvents['error'][] = [];
      const entitlement = (emu: World['emu']) => ({ productCode: PRODUCT, publicKeyVersion: 1, publicKeyPem: emu.publicKeyPem(1) });
      world = await startWorld({}, routes, (emu) => ({ ...PRODUCT_MODE, entitlement: entitlement(emu) }));
      world.metering.on('error', (e) => errors.push(e));
      const registerUsage = jest.spyOn(world.metering, 'registerUsage');
      const mk = meterkit(world.metering, { identify: () => 'acme', manageLifecycle: false, entitlementGate: { register: true } });
      expect(registerUsage).toHaveBeenCalledTimes(1);
      await request(express().use(mk).get('/r', (_req, res) => res.end())).get('/r').expect(503);
      await expect(registerUsage.mock.results[0]!.value).resolves.toMatchObject({ state: 'entitled' });
      expect(world.emu.inspect.calls('RegisterUsage')).toHaveLength(1);
      await request(express().use(mk).get('/r', (_req, res) => res.end())).get('/r').expect(200);
      expect(errors).toEqual([]);
    });
  });
});
