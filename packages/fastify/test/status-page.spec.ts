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

    const json = await app.inject({ url: '/meterkit/status.json', headers: { 'x-meterkit-token': TOKEN } });
    expect([json.statusCode, json.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
    expect(json.json()).toMatchObject({ sent: counts.sent, pending: 0, lastSuccessfulSendAt: (await metering.status()).lastSuccessfulSendAt });
    const query = await app.inject({ url: '/meterkit/status?format=json', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(query.json().sent).toBe(counts.sent);
    const head = await app.inject({ method: 'HEAD', url: '/meterkit/status', headers: { authorization: `Bearer ${TOKEN}` } });
    expect([head.statusCode, head.body]).toEqual([200, '']);
  });

  it('refuses a token in the query string, and its request logs hide it', async () => {
    const lines: string[] = [];
    app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
    await app.register(meterkit, { metering, identify: () => undefined, manageLifecycle: false, statusPage: { token: TOKEN } });
    await app.ready();
    for (const url of [`/meterkit/status?token=${TOKEN}`, `/meterkit/status.json?a=1&Token=${TOKEN}`]) {
      const refused = await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(refused.statusCode).toBe(400);
      expect(refused.body).toContain('Authorization: Bearer');
      expect(refused.body).not.toContain(TOKEN);
    }
    expect(lines.join('')).toContain('/meterkit/status?token=[hidden]');
    expect(lines.join('')).not.toContain(TOKEN);
  });

  it('logs in through the form: a session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) opens the page until logout, under a prefix too', async () => {
    app = Fastify({ logger: false });
    await app.register(meterkit, { metering, identify: () => undefined, manageLifecycle: false, statusPage: { token: TOKEN } }).after();
    await app.register(async (api) => api.get('/ping', async () => 'pong'), { prefix: '/api' });
    await app.ready();
    const form = await app.inject({ url: '/meterkit/status' });
    expect(form.statusCode).toBe(401);
    expect(form.body).toContain('<form method="post" action="status" id="login">');
    const post = (body: string) => app!.inject({ method: 'POST', url: '/meterkit/status', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
    expect((await post('token=wrong-token-0123456789')).statusCode).toBe(401);
    const login = await post(`token=${encodeURIComponent(TOKEN)}`);
    expect([login.statusCode, login.headers['location']]).toEqual([303, 'status']);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^meterkit_status=[^;]+; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    const session = cookie.split(';')[0]!;
    const page = await app.inject({ url: '/meterkit/status', headers: { cookie: session } });
    expect(sentOnPage(page.body)).toBe(0);
    const logout = await app.inject({ method: 'POST', url: '/meterkit/status', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session }, payload: 'logout=1' });
    expect(String(logout.headers['set-cookie'])).toMatch(/^meterkit_status=; Max-Age=0;/);
    expect((await app.inject({ method: 'POST', url: '/meterkit/status', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode).toBe(415);
    const https = Fastify({ logger: false, trustProxy: true });
    await https.register(meterkit, { metering, identify: () => undefined, manageLifecycle: false, statusPage: { token: TOKEN, path: '/ops/status' } });
    const secure = await https.inject({
      method: 'POST',
      url: '/ops/status',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      payload: `token=${TOKEN}`,
    });
    expect(String(secure.headers['set-cookie'])).toMatch(/; Secure$/);
    await https.close();
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
    expect((await app.inject({ method: 'HEAD', url: '/ops/metering', headers })).statusCode).toBe(200);
    expect((await app.inject({ url: '/meterkit/status', headers })).statusCode).toBe(404);
    expect(identified).toBe(0);
    // An app route is identified (this request names no tenant: nothing to bill).
    expect((await app.inject({ url: '/reports' })).statusCode).toBe(200);
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
