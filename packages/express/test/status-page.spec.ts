import { ErrorCodes, isMeterkitError } from '@meterkit/core';
import express from 'express';
import request from 'supertest';
import { meterkit } from '../src';
import { startWorld, type World } from './support/world';

const TOKEN = 'status-token-0123456789';

/** The "sent" figure the HTML page shows. */
function sentOnPage(html: string): number {
  const match = /id="count-sent">(\d+)</.exec(html);
  if (match === null) throw new Error('no sent count on the page');
  return Number(match[1]);
}

describe('statusPage option: the operators’ status page', () => {
  let world: World;
  afterEach(() => world.close());

  const apiRoutes = (app: express.Express, mk: ReturnType<typeof meterkit>) => {
    app.get('/reports', mk.count('api_calls'), (_req, res) => {
      res.json({ reports: [] });
    });
  };

  it('refuses without the token, serves HTML and JSON with the core’s headers and the figures of metering.status()', async () => {
    world = await startWorld({ statusPage: { token: TOKEN } }, apiRoutes);
    const acme = await world.buyer('acme');
    const agent = request(world.app);
    for (let i = 0; i < 3; i++) await agent.get('/reports').set('x-tenant', 'acme').expect(200);
    await world.closeHourAndFlush();
    const { counts } = await world.metering.status();
    expect(counts.sent).toBe(1);
    expect(world.billed(acme.licenseArn, 'api_calls')).toBe(3);

    const refused = await agent.get('/meterkit/status').set('x-tenant', 'acme').expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    expect(refused.text).not.toContain('count-sent');
    await agent.get('/meterkit/status.json').set('authorization', 'Bearer wrong-token-0123456789').expect(401, { error: 'unauthorized' });

    const page = await agent.get('/meterkit/status').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(sentOnPage(page.text)).toBe(counts.sent);

    const json = await agent.get('/meterkit/status.json').set('x-meterkit-token', TOKEN).expect(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.body).toMatchObject({ sent: counts.sent, pending: 0, lastSuccessfulSendAt: (await world.metering.status()).lastSuccessfulSendAt });
    const query = await agent.get('/meterkit/status?format=json').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(query.body.sent).toBe(counts.sent);
  });

  it('refuses a token in the query string and hides it from the URL access logs read after the response', async () => {
    world = await startWorld({ statusPage: { token: TOKEN } }, apiRoutes);
    const logged: string[] = [];
    const app = express()
      .use((req, res, next) => {
        res.on('finish', () => logged.push(req.originalUrl));
        next();
      })
      .use(world.mk);
    for (const url of [`/meterkit/status?token=${TOKEN}`, `/meterkit/status.json?a=1&Token=${TOKEN}`]) {
      const refused = await request(app).get(url).expect(400);
      expect(refused.text).toContain('Authorization: Bearer');
      expect(refused.text).not.toContain(TOKEN);
    }
    expect(logged).toEqual(['/meterkit/status?token=[hidden]', '/meterkit/status.json?a=1&Token=[hidden]']);
  });

  it('logs in through the form (a session cookie, HttpOnly, SameSite=Strict, Secure behind HTTPS) wherever meterkit is mounted, with or without a body parser', async () => {
    world = await startWorld({ statusPage: { token: TOKEN } }, apiRoutes);
    for (const app of [express().use('/admin', world.mk), express().use(express.urlencoded({ extended: false })).use('/admin', world.mk)]) {
      const agent = request.agent(app);
      const form = await agent.get('/admin/meterkit/status').expect(401);
      expect(form.text).toContain('<form method="post" action="status" id="login">');
      await agent.post('/admin/meterkit/status').type('form').send({ token: 'wrong-token-0123456789' }).expect(401);
      const login = await agent.post('/admin/meterkit/status').type('form').send({ token: TOKEN }).expect(303);
      expect(login.headers['location']).toBe('status');
      expect(login.headers['set-cookie']![0]).toMatch(/^meterkit_status=[^;]+; Max-Age=43200; HttpOnly; SameSite=Strict$/);
      const page = await agent.get('/admin/meterkit/status').expect(200);
      expect(sentOnPage(page.text)).toBe(0);
      await agent.post('/admin/meterkit/status').type('form').send({ logout: '1' }).expect(303);
      await agent.get('/admin/meterkit/status.json').expect(401);
    }
    const behindProxy = express().set('trust proxy', true).use(world.mk);
    const secure = await request(behindProxy).post('/meterkit/status').set('x-forwarded-proto', 'https').type('form').send({ token: TOKEN }).expect(303);
    expect(secure.headers['set-cookie']![0]).toMatch(/; Secure$/);
  });

  it('is never metered and never behind identify, wherever meterkit is mounted', async () => {
    let identified = 0;
    world = await startWorld({
      statusPage: { token: TOKEN, path: '/ops/metering' },
      identify: (req) => {
        identified += 1;
        return req.get('x-tenant');
      },
    }, apiRoutes);
    await world.buyer('acme');
    const mounted = express().use('/api', world.mk);
    await request(mounted).get('/api/ops/metering').set('x-tenant', 'acme').set('authorization', `Bearer ${TOKEN}`).expect(200);
    await request(world.app).get('/ops/metering.json').set('x-tenant', 'acme').set('authorization', `Bearer ${TOKEN}`).expect(200);
    await request(world.app).get('/meterkit/status').set('x-tenant', 'acme').expect(404);
    expect(identified).toBe(1);
    await world.closeHourAndFlush();
    expect(world.emu.inspect.records()).toEqual([]);
  });

  it('lets a guard open the page with the Express request', async () => {
    world = await startWorld({ statusPage: { guard: (req) => req.get('x-admin') === 'yes' } }, apiRoutes);
    await request(world.app).get('/meterkit/status').expect(401);
    await request(world.app).get('/meterkit/status').set('x-admin', 'no').expect(401);
    await request(world.app).get('/meterkit/status').set('x-admin', 'yes').expect(200);
    const async = await startWorld({ statusPage: { guard: async () => Promise.reject(new Error('session store down')) } });
    await request(async.app).get('/meterkit/status.json').expect(401);
    await async.close();
  });

  it('refuses a page without a token or a guard, or with a bad path, at creation', async () => {
    world = await startWorld();
    for (const statusPage of [{}, { token: 'short' }, { path: '/ops/:id', token: TOKEN }, 'on']) {
      let thrown: unknown;
      try {
        meterkit(world.metering, { identify: () => undefined, manageLifecycle: false, statusPage: statusPage as never });
      } catch (error) {
        thrown = error;
      }
      expect(isMeterkitError(thrown, ErrorCodes.OPTIONS)).toBe(true);
    }
  });

  it('stops collecting errors on close()', async () => {
    world = await startWorld({ statusPage: { token: TOKEN } });
    const off = jest.spyOn(world.metering, 'off');
    await world.mk.close();
    expect(off).toHaveBeenCalledWith('error', expect.any(Function));
  });
});
