import type { Emulator } from '@meterkit/emulator';
import { ErrorCodes, isMeterkitError, type Metering } from '@meterkit/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { meterkit } from '../src';
import { appWith, emulator, flushHour, meteringFor, tenant } from './support/world';

const TOKEN = 'status-token-0123456789';

function sentOnPage(html: string): number {
  const match = /id="count-sent">(\d+)</.exec(html);
  if (match === null) throw new Error('no sent count on the page');
  return Number(match[1]);
}

describe('statusPage option: the operators’ status page (fastify.inject)', () => {
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance | undefined;

  beforeEach(async () => {
    emu = await emulator();
    metering = meteringFor(emu);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await metering.close().catch(() => undefined);
    await emu.close();
  });

  async function withReports(instance: FastifyInstance): Promise<FastifyInstance> {
    instance.get('/reports', { config: { metering: { dimension: 'api_calls' } } }, async () => ({ reports: [] }));
    await instance.ready();
    return instance;
  }

  it('refuses without the token, serves HTML and JSON with the core’s headers and the figures of metering.status()', async () => {
    await tenant(emu, metering, 'acme');
    app = await withReports(await appWith(metering, { statusPage: { token: TOKEN } }));
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/reports', headers: { 'x-tenant': 'acme' } })).statusCode).toBe(200);
    await flushHour(emu, metering);
    const { counts } = await metering.status();
    expect(counts.sent).toBe(1);

    const refused = await app.inject({ url: '/meterkit/status' });
    expect([refused.statusCode, refused.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect(refused.body).not.toContain('count-sent');
    const wrong = await app.inject({ url: '/meterkit/status.json', headers: { authorization: 'Bearer wrong-token-0123456789' } });
    expect([wrong.statusCode, wrong.json()]).toEqual([401, { error: 'unauthorized' }]);

    const page = await app.inject({ url: '/meterkit/status', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(sentOnPage(page.body)).toBe(counts.sent);

    const json = await app.inject({ url: `/meterkit/status.json?token=${TOKEN}` });
    expect([json.statusCode, json.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
    expect(json.json()).toMatchObject({ sent: counts.sent, pending: 0 });
    const query = await app.inject({ url: `/meterkit/status?format=json&token=${TOKEN}` });
    expect(query.json().sent).toBe(counts.sent);
    const head = await app.inject({ method: 'HEAD', url: '/meterkit/status', headers: { authorization: `Bearer ${TOKEN}` } });
    expect([head.statusCode, head.body]).toEqual([200, '']);
  });

  it('is never metered and never behind identify', async () => {
    await tenant(emu, metering, 'acme');
    let identified = 0;
    app = await withReports(
      await appWith(metering, {
        identifyHook: 'onRequest',
        statusPage: { token: TOKEN, path: '/ops/metering' },
        identify: (request) => {
          identified += 1;
          return request.headers['x-tenant'] as string | undefined;
        },
      }),
    );
    const headers = { 'x-tenant': 'acme', authorization: `Bearer ${TOKEN}` };
    expect((await app.inject({ url: '/ops/metering', headers })).statusCode).toBe(200);
    expect((await app.inject({ url: '/ops/metering.json', headers })).statusCode).toBe(200);
    expect((await app.inject({ url: '/meterkit/status', headers })).statusCode).toBe(404);
    expect(identified).toBe(1);
    await flushHour(emu, metering);
    expect(emu.inspect.records()).toEqual([]);
  });

  it('lets a guard open the page with the Fastify request; a throwing guard refuses', async () => {
    app = await withReports(await appWith(metering, { statusPage: { guard: (request) => request.headers['x-admin'] === 'yes' } }));
    expect((await app.inject({ url: '/meterkit/status' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/meterkit/status', headers: { 'x-admin': 'no' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/meterkit/status', headers: { 'x-admin': 'yes' } })).statusCode).toBe(200);
    await app.close();
    app = await withReports(await appWith(metering, { statusPage: { guard: async () => Promise.reject(new Error('session store down')) }, manageLifecycle: false }));
    expect((await app.inject({ url: '/meterkit/status.json' })).statusCode).toBe(401);
  });

  it('refuses a page without a token or a guard, or with a bad path, at registration; stops collecting errors on close', async () => {
    for (const statusPage of [{}, { token: 'short' }, { path: '/ops/:id', token: TOKEN }, 'on']) {
      const bad = Fastify({ logger: false });
      bad.register(meterkit, { metering, identify: () => undefined, manageLifecycle: false, statusPage: statusPage as never });
      let thrown: unknown;
      try {
        await bad.ready();
      } catch (error) {
        thrown = error;
      }
      expect(isMeterkitError(thrown, ErrorCodes.OPTIONS)).toBe(true);
      await bad.close();
    }
    app = await withReports(await appWith(metering, { statusPage: { token: TOKEN }, manageLifecycle: false }));
    const off = jest.spyOn(metering, 'off');
    await app.close();
    expect(off).toHaveBeenCalledWith('error', expect.any(Function));
  });
});
