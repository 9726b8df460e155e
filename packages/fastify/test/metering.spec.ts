import type { Emulator } from '@meterkit/emulator';
import { MemoryStore, type Metering } from '@meterkit/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { meterkit } from '../src';
import { appWith, emulator, flushHour, meteringFor, PRODUCT, tenant } from './support/world';

describe('metering requests (fastify.inject against the emulator)', () => {
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

  async function routes(instance: FastifyInstance, more?: (instance: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
    await more?.(instance);
    instance.get('/reports', { config: { metering: { dimension: 'api_calls' } } }, async () => ({ reports: [] }));
    instance.post<{ Body: { items: number[] } }>('/process', { config: { metering: { dimension: 'api_calls' } } }, async (request) => {
      request.meter?.record('gb_processed', request.body.items.length);
      return { processed: request.body.items.length };
    });
    instance.get('/export', { config: { metering: { dimension: 'gb_processed', quantity: (_request, reply) => Number(reply.getHeader('x-pages')) } } }, async (_request, reply) => {
      reply.header('x-pages', '7');
      return { pages: 7 };
    });
    instance.get('/broken', { config: { metering: { dimension: 'api_calls' } } }, async (request) => {
      request.meter?.record('gb_processed', 50);
      throw new Error('database down');
    });
    instance.get('/missing', { config: { metering: { dimension: 'api_calls' } } }, async (_request, reply) => reply.code(404).send({ error: 'no such report' }));
    instance.get('/whoami', async (request) => ({ metered: request.meter !== null, error: request.meteringError?.code ?? null }));
    await instance.ready();
    return instance;
  }

  it('sends route-config and handler usage per tenant with exact totals after a flush', async () => {
    const alice = await tenant(emu, metering, 'tenant-alice');
    const bob = await tenant(emu, metering, 'tenant-bob');
    app = await routes(await appWith(metering));

    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/reports', headers: { 'x-tenant': 'tenant-alice' } })).statusCode).toBe(200);
    const processed = await app.inject({ method: 'POST', url: '/process', headers: { 'x-tenant': 'tenant-bob' }, payload: { items: [1, 2, 3, 4, 5] } });
    expect(processed.json()).toEqual({ processed: 5 });
    await app.inject({ url: '/export', headers: { 'x-tenant': 'tenant-alice' } });
    await app.inject({ url: '/reports' });
    await flushHour(emu, metering);

    const arn = (c: typeof alice) => (c.kind === 'license' ? c.licenseArn : '');
    expect(emu.inspect.totalFor({ licenseArn: arn(alice), dimension: 'api_calls' })).toBe(3);
    expect(emu.inspect.totalFor({ licenseArn: arn(alice), dimension: 'gb_processed' })).toBe(7);
    expect(emu.inspect.totalFor({ licenseArn: arn(bob), dimension: 'api_calls' })).toBe(1);
    expect(emu.inspect.totalFor({ licenseArn: arn(bob), dimension: 'gb_processed' })).toBe(5);
    expect(emu.inspect.records()).toHaveLength(4);
    expect(emu.inspect.records().every((r) => r.productCode === PRODUCT && r.timestamp === Date.parse('2026-07-15T10:00:00Z'))).toBe(true);
  });

  it('bills nothing for a refused request (400 validation, 403 guard, 404) nor a 5xx, and a 2xx exactly', async () => {
    await tenant(emu, metering, 'tenant-alice');
    // identify on onRequest: the meter exists before validation and the guard refuse the request.
    app = await routes(await appWith(metering, { identifyHook: 'onRequest' }), async (instance) => {
      instance.post(
        '/validated',
        { config: { metering: { dimension: 'api_calls' } }, schema: { body: { type: 'object', required: ['items'], properties: { items: { type: 'array' } } } } },
        async () => ({ ok: true }),
      );
      instance.get(
        '/guarded',
        {
          config: { metering: { dimension: 'api_calls' } },
          preHandler: async (request, reply) => {
            request.meter?.record('gb_processed', 9);
            await reply.code(403).send({ error: 'forbidden' });
          },
        },
        async () => ({ never: true }),
      );
    });
    const alice = { 'x-tenant': 'tenant-alice' };

    expect((await app.inject({ method: 'POST', url: '/validated', headers: alice, payload: { wrong: 1 } })).statusCode).toBe(400);
    expect((await app.inject({ url: '/guarded', headers: alice })).statusCode).toBe(403);
    expect((await app.inject({ url: '/missing', headers: alice })).statusCode).toBe(404);
    expect((await app.inject({ url: '/no-such-route', headers: alice })).statusCode).toBe(404);
    expect((await app.inject({ url: '/broken', headers: alice })).statusCode).toBe(500);
    expect((await app.inject({ method: 'POST', url: '/validated', headers: alice, payload: { items: [] } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/reports', headers: alice })).statusCode).toBe(200);
    await flushHour(emu, metering);

    expect(emu.inspect.totalFor({ dimension: 'gb_processed' })).toBe(0);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
  });

  it('follows a custom commit policy', async () => {
    await tenant(emu, metering, 'tenant-alice');
    app = await routes(await appWith(metering, { commitPolicy: { commitOn: (status) => status < 500 } }));

    await app.inject({ url: '/missing', headers: { 'x-tenant': 'tenant-alice' } });
    await app.inject({ url: '/reports', headers: { 'x-tenant': 'tenant-alice' } });
    await app.inject({ url: '/broken', headers: { 'x-tenant': 'tenant-alice' } });
    await flushHour(emu, metering);

    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
  });

  it('serves unidentified and unknown tenants unmetered, with the reason on request.meteringError', async () => {
    app = await routes(await appWith(metering));

    expect((await app.inject({ url: '/whoami' })).json()).toEqual({ metered: false, error: null });
    expect((await app.inject({ url: '/whoami', headers: { 'x-tenant': 'tenant-nobody' } })).json()).toEqual({ metered: false, error: 'ERR_METERKIT_UNKNOWN_CUSTOMER' });
    const reports = await app.inject({ url: '/reports', headers: { 'x-tenant': 'tenant-nobody' } });
    expect(reports.statusCode).toBe(200);
  });

  it('accepts an async identify returning a customer identity', async () => {
    const alice = await tenant(emu, metering, 'tenant-alice');
    app = await routes(await appWith(metering, { identify: async (request) => (request.headers['x-tenant'] === 'alice' ? alice : undefined) }));

    expect((await app.inject({ url: '/whoami', headers: { 'x-tenant': 'alice' } })).json()).toEqual({ metered: true, error: null });
    await app.inject({ url: '/reports', headers: { 'x-tenant': 'alice' } });
    await flushHour(emu, metering);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(1);
  });

  it('never fails a request because the store is down', async () => {
    class BrokenStore extends MemoryStore {
      override async open(): Promise<void> {
        throw new Error('disk unavailable');
      }
    }
    await metering.close();
    metering = meteringFor(emu, { store: new BrokenStore() });
    app = await routes(await appWith(metering, { manageLifecycle: false }));

    const response = await app.inject({ url: '/whoami', headers: { 'x-tenant': 'tenant-alice' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ metered: false, error: 'ERR_METERKIT_STORE' });
    expect((await app.inject({ url: '/reports', headers: { 'x-tenant': 'tenant-alice' } })).statusCode).toBe(200);
  });

  it('meters a known customer without a store read, and listens to the raw response only to bill aborted requests', async () => {
    for (const commitAborted of [false, true]) {
      // Closing the app closes its engine: each configuration gets its own.
      if (commitAborted) {
        await app.close();
        metering = meteringFor(emu);
      }
      await tenant(emu, metering, 'tenant-alice');
      app = await appWith(metering, { commitPolicy: { commitAborted } });
      app.get('/listeners', { config: { metering: { dimension: 'api_calls' } } }, async (request, reply) => ({ metered: request.meter !== null, close: reply.raw.listenerCount('close') }));
      await app.ready();
      const unmetered = (await app.inject({ url: '/listeners' })).json();
      await app.inject({ url: '/listeners', headers: { 'x-tenant': 'tenant-alice' } });
      const reads = jest.spyOn(metering.store, 'findCustomerByTenant');
      const known = (await app.inject({ url: '/listeners', headers: { 'x-tenant': 'tenant-alice' } })).json();
      expect(reads).not.toHaveBeenCalled();
      reads.mockRestore();
      expect(known).toEqual({ metered: true, close: unmetered.close + (commitAborted ? 1 : 0) });
    }
  });

  it('takes each route\'s decisions when it is declared: a request reads no route options (Fastify builds them per read)', async () => {
    await tenant(emu, metering, 'tenant-alice');
    const app0 = Fastify({ logger: false });
    let reads = 0;
    // Counts request.routeOptions reads: a getter on Fastify's request prototype, shadowed per request.
    app0.addHook('onRequest', (request, _reply, done) => {
      let proto: object | null = Object.getPrototypeOf(request);
      while (proto !== null && Object.getOwnPropertyDescriptor(proto, 'routeOptions') === undefined) proto = Object.getPrototypeOf(proto);
      const getter = Object.getOwnPropertyDescriptor(proto!, 'routeOptions')!.get!;
      Object.defineProperty(request, 'routeOptions', { configurable: true, get: () => (reads++, getter.call(request)) });
      done();
    });
    await app0.register(meterkit, {
      metering,
      identify: (request) => request.headers['x-tenant'] as string | undefined,
      registration: { path: '/marketplace/register' },
      lifecycle: { path: '/marketplace/events', secret: 'a-lifecycle-secret-of-some-length' },
      statusPage: { token: 'a-status-page-token-0123456789' },
    });
    app = await routes(app0);
    const alice = { 'x-tenant': 'tenant-alice' };
    expect((await app.inject({ url: '/reports', headers: alice })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/process', headers: alice, payload: { items: [1, 2] } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/export', headers: alice })).statusCode).toBe(200);
    expect((await app.inject({ url: '/whoami', headers: alice })).json()).toEqual({ metered: true, error: null });
    expect(reads).toBe(0);
    await flushHour(emu, metering);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
    expect(emu.inspect.totalFor({ dimension: 'gb_processed' })).toBe(9);
  });

  it('meters the routes declared after the plugin, in the same instance or a child plugin; not the ones declared before it', async () => {
    await tenant(emu, metering, 'tenant-alice');
    app = Fastify({ logger: false });
    app.get('/early', { config: { metering: { dimension: 'api_calls' } } }, async (request) => ({ metered: request.meter !== null }));
    await app.register(meterkit, { metering, identify: (request) => request.headers['x-tenant'] as string | undefined });
    app.get('/late', { config: { metering: { dimension: 'api_calls' } } }, async (request) => ({ metered: request.meter !== null }));
    app.register(async (child) => {
      child.get('/child', { config: { metering: { dimension: 'api_calls' } } }, async (request) => ({ metered: request.meter !== null }));
    });
    await app.ready();
    const alice = { 'x-tenant': 'tenant-alice' };
    expect((await app.inject({ url: '/early', headers: alice })).json()).toEqual({ metered: false });
    expect((await app.inject({ url: '/late', headers: alice })).json()).toEqual({ metered: true });
    expect((await app.inject({ url: '/child', headers: alice })).json()).toEqual({ metered: true });
    await flushHour(emu, metering);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
  });

  it('identifies after the app\'s preHandler hooks and before the route\'s own; handlers see the meter however identify answers and however they reply', async () => {
    await tenant(emu, metering, 'tenant-alice');
    const order: string[] = [];
    app = Fastify({ logger: false });
    await app.register(meterkit, {
      metering,
      identify: (request) => {
        order.push('identify');
        if (request.headers['x-fail'] !== undefined) throw new Error('identity service down');
        const tenantId = request.headers['x-tenant'] as string | undefined;
        return request.headers['x-async'] === undefined ? tenantId : Promise.resolve(tenantId);
      },
    });
    app.addHook('preHandler', (_request, _reply, done) => {
      order.push('app preHandler');
      done();
    });
    const counted = { config: { metering: { dimension: 'api_calls' } } };
    app.get('/guarded', { ...counted, preHandler: (request, _reply, done) => (order.push(`route preHandler, metered ${request.meter !== null}`), done()) }, async (request) => {
      order.push('handler');
      return { metered: request.meter !== null };
    });
    // Answers later through reply, returning undefined.
    app.get('/later', counted, function (request, reply) {
      setImmediate(() => reply.send({ metered: request.meter !== null }));
    });
    app.get('/returned', counted, (request) => ({ metered: request.meter !== null }));
    app.setErrorHandler((error, _request, reply) => reply.code(500).send({ error: (error as Error).message }));
    await app.ready();
    const alice = { 'x-tenant': 'tenant-alice' };

    expect((await app.inject({ url: '/guarded', headers: alice })).json()).toEqual({ metered: true });
    expect(order).toEqual(['app preHandler', 'identify', 'route preHandler, metered true', 'handler']);
    order.length = 0;
    expect((await app.inject({ url: '/returned', headers: alice })).json()).toEqual({ metered: true });
    expect(order).toEqual(['app preHandler', 'identify']);
    for (const headers of [alice, { ...alice, 'x-async': '1' }]) {
      expect((await app.inject({ url: '/later', headers })).json()).toEqual({ metered: true });
      expect((await app.inject({ url: '/returned', headers })).json()).toEqual({ metered: true });
    }
    expect((await app.inject({ url: '/later' })).json()).toEqual({ metered: false });
    expect((await app.inject({ url: '/later', headers: { 'x-async': '1' } })).json()).toEqual({ metered: false });
    const failed = await app.inject({ url: '/returned', headers: { ...alice, 'x-fail': '1' } });
    expect([failed.statusCode, failed.json()]).toEqual([500, { error: 'identity service down' }]);
    await flushHour(emu, metering);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(6);
  });

  it('refuses an invalid route metering config when the route is declared', async () => {
    app = await appWith(metering);
    expect(() => app.get('/bad', { config: { metering: { dimension: '' } } }, async () => 'x')).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    expect(() => app.get('/bad2', { config: { metering: { dimension: 'api_calls', quantity: -1 } } }, async () => 'x')).toThrow(/quantity/);
  });

  it('refuses invalid plugin options at registration', async () => {
    app = await appWith(metering, { manageLifecycle: false });
    const bad = Fastify();
    await expect(bad.register(meterkit, { metering, identify: 'tenant' as never })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await bad.close();
  });
});
