import { ErrorCodes, isMeterkitError } from '@meterkit/core';
import express from 'express';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { meterkit } from '../src';
import { listen, startWorld, type World } from './support/world';

describe('app.use(meterkit(core, options)): req.meter', () => {
  let world: World;
  afterEach(() => world.close());

  it('bills usage recorded by count() and in handlers with exact totals after the flush', async () => {
    world = await startWorld({}, (app, mk) => {
      app.get('/reports', mk.count('api_calls'), (_req, res) => {
        res.json({ reports: [] });
      });
      app.post('/exports', mk.count('api_calls'), (req, res) => {
        const rows = Number(req.query.rows);
        req.meter?.record('rows_exported', rows);
        res.status(201).json({ rows });
      });
    });
    const acme = await world.buyer('acme');
    const globex = await world.buyer('globex');
    const agent = request(world.app);
    for (let i = 0; i < 7; i++) await agent.get('/reports').set('x-tenant', 'acme').expect(200);
    for (let i = 0; i < 3; i++) await agent.get('/reports').set('x-tenant', 'globex').expect(200);
    await agent.post('/exports?rows=250').set('x-tenant', 'acme').expect(201);
    await agent.post('/exports?rows=40').set('x-tenant', 'globex').expect(201);
    await agent.post('/exports?rows=2').set('x-tenant', 'globex').expect(201);

    await world.closeHourAndFlush();

    expect(world.billed(acme.licenseArn, 'api_calls')).toBe(8);
    expect(world.billed(acme.licenseArn, 'rows_exported')).toBe(250);
    expect(world.billed(globex.licenseArn, 'api_calls')).toBe(5);
    expect(world.billed(globex.licenseArn, 'rows_exported')).toBe(42);
    expect(world.emu.inspect.records().every((r) => new Date(r.timestamp).toISOString() === '2026-07-15T10:00:00.000Z')).toBe(true);
    expect(world.emu.inspect.duplicates()).toEqual([]);
  });

  it('bills nothing for a refused request (400 validation, 403 guard, 404) nor a 5xx, bills a 2xx exactly, and honours commitOn', async () => {
    const routes = (app: import('express').Express, mk: ReturnType<typeof meterkit>) => {
      app.get('/status/:code', mk.count('api_calls'), (req, res) => {
        res.status(Number(req.params.code)).json({});
      });
      // Usage recorded before a validation middleware or a guard refuses the request goes with the refusal.
      app.post('/validated', mk.count('api_calls'), (req, _res, next) => {
        req.meter?.record('rows_exported', 5);
        if (req.query.rows === undefined) return next(Object.assign(new Error('rows is required'), { status: 400, expose: true }));
        next();
      }, (_req, res) => {
        res.status(201).json({});
      });
      app.get('/admin', mk.count('api_calls'), (req, res, next) => {
        req.meter?.record('rows_exported', 7);
        if (req.get('x-role') !== 'admin') return void res.status(403).json({ error: 'forbidden' });
        next();
      }, (_req, res) => {
        res.json({});
      });
      app.get('/throws', mk.count('api_calls'), () => {
        throw new Error('database down');
      });
    };
    world = await startWorld({}, routes);
    const acme = await world.buyer('acme');
    const agent = request(world.app);
    await agent.get('/status/200').set('x-tenant', 'acme').expect(200);
    await agent.get('/status/400').set('x-tenant', 'acme').expect(400);
    await agent.get('/status/404').set('x-tenant', 'acme').expect(404);
    await agent.get('/status/500').set('x-tenant', 'acme').expect(500);
    await agent.get('/status/503').set('x-tenant', 'acme').expect(503);
    await agent.post('/validated').set('x-tenant', 'acme').expect(400);
    await agent.get('/admin').set('x-tenant', 'acme').expect(403);
    await agent.get('/throws').set('x-tenant', 'acme').expect(500);
    await agent.get('/no-such-route').set('x-tenant', 'acme').expect(404);
    await agent.post('/validated?rows=5').set('x-tenant', 'acme').expect(201);
    await world.closeHourAndFlush();
    expect(world.billed(acme.licenseArn, 'api_calls')).toBe(2);
    expect(world.billed(acme.licenseArn, 'rows_exported')).toBe(5);
    await world.close();

    world = await startWorld({ commitPolicy: { commitOn: (status) => status < 500 } }, routes);
    const lenient = await world.buyer('acme');
    await request(world.app).get('/status/200').set('x-tenant', 'acme').expect(200);
    await request(world.app).get('/status/404').set('x-tenant', 'acme').expect(404);
    await request(world.app).get('/status/500').set('x-tenant', 'acme').expect(500);
    await world.closeHourAndFlush();
    expect(world.billed(lenient.licenseArn, 'api_calls')).toBe(2);
  });

  it('does not bill a request whose client went away before the response finished, unless commitAborted', async () => {
    for (const commitAborted of [false, true]) {
      let reached!: () => void;
      let closed!: () => void;
      const handlerReached = new Promise<void>((resolve) => (reached = resolve));
      const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
      world = await startWorld({ commitPolicy: { commitAborted } }, (app, mk) => {
        app.get('/slow', mk.count('api_calls'), (req, res) => {
          req.meter?.record('rows_exported', 9);
          res.on('close', () => closed());
          reached();
        });
        app.get('/fast', mk.count('api_calls'), (_req, res) => {
          res.json({});
        });
      });
      const acme = await world.buyer('acme');
      const server = await listen(world.app);
      const client = httpRequest(`${server.url}/slow`, { headers: { 'x-tenant': 'acme' } });
      client.on('error', () => undefined);
      client.end();
      await handlerReached;
      client.destroy();
      await serverSawClose;
      await request(server.url).get('/fast').set('x-tenant', 'acme').expect(200);
      await server.close();

      await world.closeHourAndFlush();
      expect([commitAborted, world.billed(acme.licenseArn, 'api_calls'), world.billed(acme.licenseArn, 'rows_exported')]).toEqual(
        commitAborted ? [true, 2, 9] : [false, 1, 0],
      );
      await world.close();
    }
    world = await startWorld();
  });

  it('serves unidentified requests unmetered, and tells why an identified one has no meter', async () => {
    world = await startWorld({}, (app, mk) => {
      app.get('/whoami', mk.count('api_calls'), (req, res) => {
        res.json({ metered: req.meter !== null, error: req.meteringError?.code ?? null });
      });
    });
    const acme = await world.buyer('acme');
    const agent = request(world.app);
    await agent.get('/whoami').expect(200, { metered: false, error: null });
    await agent.get('/whoami').set('x-tenant', 'nobody').expect(200, { metered: false, error: ErrorCodes.UNKNOWN_CUSTOMER });
    await agent.get('/whoami').set('x-tenant', 'acme').expect(200, { metered: true, error: null });

    await world.metering.putCustomer({ ...acme.customer, status: 'inactive' });
    await agent.get('/whoami').set('x-tenant', 'acme').expect(200, { metered: false, error: ErrorCodes.CUSTOMER_INACTIVE });

    await world.closeHourAndFlush();
    expect(world.emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(1);
  });

  it('serves requests while the store is down: a known tenant stays metered (fail open), usage recorded meanwhile is kept', async () => {
    world = await startWorld({}, (app, mk) => {
      app.get('/whoami', mk.count('api_calls'), (req, res) => {
        res.json({ metered: req.meter !== null, error: req.meteringError?.code ?? null });
      });
    }, { tenantCacheMs: 0 });
    const acme = await world.buyer('acme');
    const agent = request(world.app);
    await agent.get('/whoami').set('x-tenant', 'acme').expect(200, { metered: true, error: null });
    world.store.down = true;
    await agent.get('/whoami').set('x-tenant', 'acme').expect(200, { metered: true, error: null });
    await agent.get('/whoami').set('x-tenant', 'nobody-known').expect(200, { metered: false, error: ErrorCodes.STORE });
    await expect(world.metering.persist()).rejects.toThrow();
    world.store.down = false;
    await world.closeHourAndFlush();
    expect(world.billed(acme.licenseArn, 'api_calls')).toBe(2);
  });

  it('binds the meter to a customer record or identity that identify() returns asynchronously', async () => {
    let customer: Awaited<ReturnType<World['buyer']>>['customer'] | undefined;
    world = await startWorld({ identify: async (req) => (req.get('x-as') === 'record' ? customer : customer?.identity) }, (app, mk) => {
      app.get('/r', mk.count('api_calls', 3), (_req, res) => {
        res.end();
      });
    });
    const acme = await world.buyer('acme');
    customer = acme.customer;
    await request(world.app).get('/r').set('x-as', 'record').expect(200);
    await request(world.app).get('/r').set('x-as', 'identity').expect(200);
    await world.closeHourAndFlush();
    expect(world.billed(acme.licenseArn, 'api_calls')).toBe(6);
  });

  it('hands errors of identify() to Express error handling', async () => {
    const identify = (req: import('express').Request) => {
      if (req.get('x-tenant') === 'boom') throw new Error('auth db down');
      return req.get('x-tenant');
    };
    world = await startWorld({ identify }, (app, mk) => {
      app.get('/counted', mk.count('api_calls'), (_req, res) => {
        res.end();
      });
    });
    await world.buyer('acme');
    await request(world.app).get('/counted').set('x-tenant', 'boom').expect(500, { error: { code: 'APP_ERROR', message: 'auth db down' } });
    await request(world.app).get('/counted').set('x-tenant', 'acme').expect(200);
  });

  it('count() of a dimension no product has throws ERR_METERKIT_UNKNOWN_DIMENSION when the route is declared', async () => {
    world = await startWorld();
    const mk = meterkit(world.metering, { identify: () => undefined, manageLifecycle: false });
    expect(() => mk.count('api_cals')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION, message: expect.stringContaining('api_cals') }));
    expect(() => mk.count('API_CALLS')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION }));
    expect(typeof mk.count('rows_exported', 2)).toBe('function');
  });

  it('requireEntitlement() is checked when the route is declared: a bad atLeast, and an entitlement no contract product lists', async () => {
    world = await startWorld();
    const mk = meterkit(world.metering, { identify: () => undefined, manageLifecycle: false });
    expect(() => mk.requireEntitlement('seats', { atLeast: Number.NaN })).toThrow(expect.objectContaining({ code: ErrorCodes.OPTIONS }));
    expect(() => mk.requireEntitlement('')).toThrow(expect.objectContaining({ code: ErrorCodes.OPTIONS }));
    // This product is a subscription: it has no entitlements a route could require.
    expect(() => mk.requireEntitlement('seats')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION, message: expect.stringContaining('seats') }));
  });

  it('validates its options once, at creation', async () => {
    world = await startWorld();
    const bad: unknown[] = [
      {},
      { identify: 'tenant' },
      { identify: () => undefined, registration: { path: 'register' } },
      { identify: () => undefined, registration: { path: '/r', maxBodyBytes: 0 } },
      { identify: () => undefined, registration: { path: '/r', rateLimitPerMinute: -1 } },
      { identify: () => undefined, commitAborted: 'yes' },
      { identify: () => undefined, commitPolicy: { commitAborted: 'yes' } },
      { identify: () => undefined, commitPolicy: { commitOn: 400 } },
      { identify: () => undefined, manageLifecycle: 'no' },
    ];
    for (const options of bad) {
      let thrown: unknown;
      try {
        meterkit(world.metering, options as never);
      } catch (error) {
        thrown = error;
      }
      expect(isMeterkitError(thrown, ErrorCodes.OPTIONS)).toBe(true);
    }
    expect(() => world.mk.count('')).toThrow(/dimension/);
    expect(() => world.mk.count('api_calls', 1.5)).toThrow(/quantity/);
  });

  it('close() persists the usage still in memory, and rejects when it could not', async () => {
    world = await startWorld({}, (app, mk) => {
      app.get('/r', mk.count('api_calls'), (_req, res) => {
        res.end();
      });
    });
    await world.buyer('acme');
    await request(world.app).get('/r').set('x-tenant', 'acme').expect(200);
    world.store.down = true;
    await expect(world.mk.close()).rejects.toMatchObject({ code: ErrorCodes.NOT_PERSISTED });
    world.store.down = false;
    await world.mk.close();
    expect(world.store.recordsAtClose?.map((r) => [r.dimension, r.quantity])).toEqual([['api_calls', 1]]);
  });
  it('binds req.meter into a property the request already has (Node\'s request start), so that binding adds none: on Express each added property builds a hidden class', async () => {
    world = await startWorld();
    await world.buyer('acme');
    const before = new Map<object, number>();
    const app = express();
    app.use((req, _res, next) => {
      before.set(req, Reflect.ownKeys(req).length);
      next();
    });
    app.use(world.mk);
    const added = new Map<object, number>();
    app.use((req, _res, next) => {
      added.set(req, Reflect.ownKeys(req).length - before.get(req)!);
      next();
    });
    app.get('/keys', (req, res) => {
      res.json({ meter: req.meter === null ? 'null' : typeof req.meter, added: added.get(req) });
    });
    const agent = request(app);
    expect((await agent.get('/keys').set('x-tenant', 'acme').expect(200)).body).toEqual({ meter: 'object', added: 0 });
    expect((await agent.get('/keys').set('x-tenant', 'acme').expect(200)).body).toEqual({ meter: 'object', added: 0 });
    expect((await agent.get('/keys').expect(200)).body).toEqual({ meter: 'null', added: 0 });
  });

  it('meters a known customer without a store read, settling each request with one response listener', async () => {
    world = await startWorld({}, (app, mk) => {
      app.get('/listeners', mk.count('api_calls'), (req, res) => {
        res.json({ metered: req.meter !== null, close: res.listenerCount('close'), finish: res.listenerCount('finish') });
      });
    });
    const acme = await world.buyer('acme');
    const agent = request(world.app);
    const unmetered = (await agent.get('/listeners').expect(200)).body;
    expect(unmetered.metered).toBe(false);
    const first = (await agent.get('/listeners').set('x-tenant', 'acme').expect(200)).body;
    const reads = jest.spyOn(world.metering.store, 'findCustomerByTenant');
    const known = (await agent.get('/listeners').set('x-tenant', 'acme').expect(200)).body;
    expect(reads).not.toHaveBeenCalled();
    for (const metered of [first, known]) expect(metered).toEqual({ metered: true, close: unmetered.close + 1, finish: unmetered.finish });
    await world.closeHourAndFlush();
    expect(world.billed(acme.licenseArn, 'api_calls')).toBe(2);
  });

  it('accepts the old option names start, commitOn and commitAborted for this release, with one deprecation warning each', async () => {
    world = await startWorld();
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const acme = await world.buyer('acme');
      const old = () => meterkit(world.metering, { identify: (req) => req.get('x-tenant'), start: false, commitOn: (status) => status < 500, commitAborted: false });
      const mk = old();
      old();
      const app = express();
      app.use(mk);
      app.get('/missing', (req, res) => {
        req.meter?.record('api_calls', 1);
        res.status(404).json({});
      });
      await request(app).get('/missing').set('x-tenant', 'acme').expect(404);
      await world.closeHourAndFlush();
      expect(world.billed(acme.licenseArn, 'api_calls')).toBe(1);
      // Once per process for each old name, though meterkit() was called twice with them.
      const warnings = emitted.mock.calls.filter(([, options]) => (options as { code?: string } | undefined)?.code === 'METERKIT_DEPRECATED_OPTION').map(([message]) => String(message));
      expect(warnings).toEqual([expect.stringContaining('`start`'), expect.stringContaining('`commitOn`'), expect.stringContaining('`commitAborted`')]);
    } finally {
      emitted.mockRestore();
    }
  });
});
