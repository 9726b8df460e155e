import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createMetering, customerKey, ErrorCodes, isEntitlementStore, MeterkitError, readableDuration, readableTime, silentLogger, StatusPage, type StatusPageData } from '../src';
import type { CustomerIdentity, Metering, StatusPageRequest } from '../src';
import { startEmulator } from '@meterkit/emulator';
import { startWorld, type World } from './support/world';

const TOKEN = 'status-token-0123456789abcdef';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function serve(page: StatusPage): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    page
      .handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, ...(req.method === 'POST' ? { body: await readBody(req) } : {}) })
      .then((r) => res.writeHead(r.status, r.headers).end(r.body))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('StatusPage in headless Chromium after a real flush to the emulator', () => {
  let world: World;
  let alice: CustomerIdentity;
  let bob: CustomerIdentity;
  let browser: Browser;
  let server: Server;
  let base: string;
  let statusPage: StatusPage;

  beforeAll(async () => {
    world = await startWorld();
    const { metering, emu } = world;
    statusPage = new StatusPage(metering, { token: TOKEN });
    alice = await world.license();
    bob = await world.license();
    world.setTime('2026-07-15T08:20:00Z');
    await metering.meter(alice).record('api_calls', 40).record('gb_processed', 12).commit();
    world.setTime('2026-07-15T09:20:00Z');
    await metering.meter(alice).record('api_calls', 25).commit();
    await metering.meter(bob).record('api_calls', 10).record('d03', 4).commit();
    world.setTime('2026-07-15T10:20:00Z');
    await metering.meter(bob).record('api_calls', 7).commit();
    emu.addProduct({ productCode: 'prod-licensed', dimensions: ['api_calls', 'gb_processed'] });
    world.setTime('2026-07-15T10:15:00Z');
    await metering.flush();
    emu.faults.failNext('BatchMeterUsage', 'ThrottlingException', 10);
    world.setTime('2026-07-15T10:25:00Z');
    await metering.meter(alice).record('api_calls', 3).commit();
    world.setTime('2026-07-15T11:12:00Z');
    await metering.flush();
    ({ server, url: base } = await serve(statusPage));
    browser = await chromium.launch({ executablePath: process.env['METERKIT_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    statusPage?.close();
    await world?.close();
  });

  it('shows the counts, headroom and chart that metering.status() and the store hold', async () => {
    const status = await world.metering.status();
    expect(status.counts).toMatchObject({ sent: 4, rejected: 1, pending: 2 });
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => m.type() === 'error' && !m.text().includes('status of 401') && cspViolations.push(m.text()));
    const login = await page.goto(`${base}/meterkit/status`);
    expect(login?.status()).toBe(401);
    await page.fill('#token', TOKEN);
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${base}/meterkit/status`);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; style-src 'sha256-/);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'meterkit_status', httpOnly: true, sameSite: 'Strict', secure: false, path: '/meterkit' });
    expect(cookie!.value).not.toContain(TOKEN);

    const text = async (id: string) => (await page.locator(`#${id}`).textContent())?.trim();
    const c = status.counts;
    expect(await text('count-pending')).toBe(String(c.open + c.pending + c.sending));
    expect(await text('count-sent')).toBe(String(c.sent));
    expect(await text('count-rejected')).toBe(String(c.rejected));
    expect(await text('count-expired')).toBe(String(c.expired));
    expect(await text('window-headroom')).toBe(readableDuration(status.oldestWindowLeftMs!));
    expect(await text('window-headroom')).toMatch(/^\d+ h \d+ min$/);
    const now = world.metering.now();
    // The emulator's clock runs on from where it was set: the newest accepted record's time, read from the store.
    const sentAt = Math.max(...(await world.metering.store.listRecords({ states: ['sent'] })).map((r) => r.settledAt!));
    expect(status.lastSuccessfulSendAt).toBe(new Date(sentAt).toISOString());
    expect(status.lastSuccessfulSendAt).toMatch(/^2026-07-15T10:1/);
    expect(await text('last-send')).toBe(readableTime(status.lastSuccessfulSendAt!, now));
    expect(await text('last-send')).toMatch(/^2026-07-15 10:1\d UTC \(\d+ min ago\)$/);
    expect(await text('generated-at')).toMatch(/^2026-07-15 11:\d\d UTC$/);
    expect(await page.locator('meta[http-equiv=refresh]').getAttribute('content')).toBe('30');

    const customers = await page.locator('#customers tr[data-customer]').evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent?.trim())),
    );
    expect(customers).toHaveLength(2);
    // The current hour is 11:00: nothing yet. In the 10:00 hour alice has 3 units and bob 7, both throttled at 11:12 and pending.
    const byLicense = new Map(customers.map((cells) => [cells[1], cells]));
    const licenseId = (who: CustomerIdentity) => /l-[A-Za-z0-9]+$/.exec(who.kind === 'license' ? who.licenseArn : '')?.[0];
    expect(byLicense.get(licenseId(alice))?.slice(2)).toEqual([alice.customerAwsAccountId, 'unregistered', '·', '·', '·', '3 (1)', '·', '·']);
    expect(byLicense.get(licenseId(bob))?.slice(4)).toEqual(['·', '·', '·', '7 (1)', '·', '·']);

    const records = await world.metering.store.listRecords();
    const bars = await page.locator('svg rect[data-quantity]').evaluateAll((rects) =>
      rects.map((r) => [r.getAttribute('data-hour'), r.getAttribute('data-dimension'), Number(r.getAttribute('data-quantity'))]),
    );
    const sums = new Map<string, number>();
    for (const r of records) sums.set(`${new Date(r.hour).toISOString()}|${r.dimension}`, (sums.get(`${new Date(r.hour).toISOString()}|${r.dimension}`) ?? 0) + r.quantity);
    const expected = [...sums].map(([key, quantity]) => [...key.split('|'), quantity]);
    expect(bars.sort()).toEqual(expected.sort());
    expect(expected).toHaveLength(5);
    expect(await page.locator('#errors tr').count()).toBeGreaterThan(1);
    const errorsText = (await page.locator('#errors').textContent()) ?? '';
    expect(errorsText).toContain('ThrottlingException');
    expect(errorsText).not.toMatch(/arn:aws:license-manager::\d{12}/);
    expect(cspViolations).toEqual([]);
    expect(await page.evaluate('document.styleSheets.length')).toBe(1);
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(248, 250, 252)');

    await page.setViewportSize({ width: 900, height: 760 });
    if (process.env['METERKIT_UPDATE_SCREENSHOT'] === '1') {
      writeFileSync(join(__dirname, '..', '..', '..', 'docs', 'status-page.png'), await page.screenshot({ fullPage: true }));
    }
    await page.close();
  });

  it('is unreachable without the token: login page without data, JSON 401, wrong token; a bearer or x-meterkit-token header works', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${base}/meterkit/status`);
    expect(response?.status()).toBe(401);
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain('Status page token');
    expect(body).not.toMatch(/sent|pending|api_calls/);
    expect(await page.locator('form#login').getAttribute('method')).toBe('post');

    await page.fill('#token', `${TOKEN.slice(0, -1)}x`);
    const [wrong] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(wrong?.status()).toBe(401);
    expect(await page.locator('#login-problem').textContent()).toBe('Wrong token.');
    expect(await page.context().cookies()).toEqual([]);

    const json = await page.request.get(`${base}/meterkit/status.json`);
    expect(json.status()).toBe(401);
    expect(((await json.json()) as { error: string }).error).toBe('unauthorized');

    for (const headers of [{ authorization: `Bearer ${TOKEN}` }, { 'x-meterkit-token': TOKEN }] as Array<Record<string, string>>) {
      const authorized = await page.request.get(`${base}/meterkit/status.json`, { headers });
      expect(authorized.status()).toBe(200);
      const data = (await authorized.json()) as StatusPageData;
      expect(data.sent).toBe((await world.metering.status()).counts.sent);
      expect(data.usage).toHaveLength(24);
      expect(data.lastSuccessfulSendAt).toBe((await world.metering.status()).lastSuccessfulSendAt);
      expect(data.lastSuccessfulSendAt).toMatch(/^2026-07-15T10:1/);
      expect(data.customers).toMatchObject({ total: 2, page: 1, pages: 1, perPage: 50 });
    }
    expect((await page.request.put(`${base}/meterkit/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status()).toBe(405);
    await page.close();
  });

  it('refuses a token in the query string, right or wrong, with how to log in, and never echoes it', async () => {
    const page = await browser.newPage();
    for (const path of [`/meterkit/status?token=${TOKEN}`, `/meterkit/status.json?token=${TOKEN}`, `/meterkit/status?format=json&Token=${TOKEN}`, '/meterkit/status?token=']) {
      const response = await page.request.get(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status()).toBe(400);
      const text = await response.text();
      expect(text).toContain('Authorization: Bearer');
      expect(text).toContain('log in');
      expect(text).not.toContain(TOKEN);
    }
    await page.close();
  });

  it('logging out clears the session; a cookie stops working once it expires or was not issued with the token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/meterkit/status`);
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect((await page.request.get(`${base}/meterkit/status.json`)).status()).toBe(200);
    const [issued] = await context.cookies();

    await Promise.all([page.waitForNavigation(), page.click('text=Log out')]);
    expect(await context.cookies()).toEqual([]);
    expect((await page.request.get(`${base}/meterkit/status.json`)).status()).toBe(401);

    const forged = `${Number(issued!.value.split('.')[0]) + 1}.${issued!.value.split('.')[1]}`;
    const withCookie = (value: string) => statusPage.handle({ method: 'GET', url: '/meterkit/status.json', headers: { cookie: `other=1; meterkit_status=${value}` } });
    expect((await withCookie(issued!.value)).status).toBe(200);
    expect((await withCookie(forged)).status).toBe(401);
    expect((await withCookie(TOKEN)).status).toBe(401);
    const now = world.metering.now();
    world.emu.clock.set(now + 12 * 3_600_000 + 1000);
    try {
      expect((await withCookie(issued!.value)).status).toBe(401);
    } finally {
      world.emu.clock.set(now);
    }
    await context.close();
  });
});

describe('StatusPage login form', () => {
  let world: World;
  let page: StatusPage;
  beforeAll(async () => {
    world = await startWorld();
    page = new StatusPage(world.metering, { token: TOKEN, sessionMs: 60_000, path: '/ops/status' });
  });
  afterAll(async () => {
    page.close();
    await world.close();
  });
  const post = (body: StatusPageRequest['body'], headers: Record<string, string> = {}, secure?: boolean) =>
    page.handle({ method: 'POST', url: '/ops/status', headers: { host: 'app.example', ...headers }, body, ...(secure === undefined ? {} : { secure }) });

  it('sets an HttpOnly, SameSite=Strict cookie (Secure over HTTPS) with the session length, and redirects to the page relatively', async () => {
    const plain = await post(`token=${encodeURIComponent(TOKEN)}`);
    expect(plain.status).toBe(303);
    expect(plain.headers['location']).toBe('status');
    expect(plain.headers['set-cookie']).toMatch(/^meterkit_status=\d+\.[A-Za-z0-9_-]{43}; Max-Age=60; HttpOnly; SameSite=Strict$/);
    const secure = await post({ token: TOKEN }, { origin: 'https://app.example' }, true);
    expect(secure.headers['set-cookie']).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const cookie = secure.headers['set-cookie']!.split(';')[0]!;
    expect((await page.handle({ method: 'GET', url: '/ops/status.json', headers: { cookie } })).status).toBe(200);
  });

  it('refuses a wrong or missing token with the form again, and a post from another site', async () => {
    for (const body of ['token=wrong-token-0123456789', '', undefined, { token: 42 }]) {
      const answer = await post(body as StatusPageRequest['body']);
      expect(answer.status).toBe(401);
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.body).toContain('id="login"');
    }
    const cross = await post(`token=${TOKEN}`, { origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
  });

  it('a guard-only page has no login form: POST is 405, GET without access is a plain 401', async () => {
    const guarded = new StatusPage(world.metering, { guard: () => false });
    try {
      expect((await guarded.handle({ method: 'POST', url: '/meterkit/status', headers: {}, body: `token=${TOKEN}` })).status).toBe(405);
      const refused = await guarded.handle({ method: 'GET', url: '/meterkit/status', headers: {} });
      expect(refused.status).toBe(401);
      expect(refused.body).not.toContain('<form');
    } finally {
      guarded.close();
    }
  });

  it('pages the per-customer view', async () => {
    const paged = new StatusPage(world.metering, { token: TOKEN, customersPerPage: 1, refreshSeconds: 0 });
    try {
      const customers = [await world.license(), await world.license(), await world.license()];
      for (const [i, who] of customers.entries()) await world.metering.putCustomer({ identity: who, status: 'active', tenantId: `tenant-${i}` });
      const headers = { authorization: `Bearer ${TOKEN}` };
      const second = JSON.parse((await paged.handle({ method: 'GET', url: '/meterkit/status.json?page=2', headers })).body) as StatusPageData;
      expect(second.customers).toMatchObject({ total: 3, page: 2, pages: 3, perPage: 1 });
      expect(second.customers.rows.map((r) => r.tenantId)).toEqual(['tenant-1']);
      const html = (await paged.handle({ method: 'GET', url: '/meterkit/status?page=9', headers })).body;
      expect(html).toContain('Page 3 of 3 (3 customers)');
      expect(html).toContain('href="status?page=2"');
      expect(html).not.toContain('http-equiv="refresh"');
    } finally {
      paged.close();
    }
  });
});

describe('StatusPage options', () => {
  it('is off unless a token or a guard is given; a guard alone can open it', async () => {
    const world = await startWorld();
    try {
      expect(() => new StatusPage(world.metering)).toThrow(expect.objectContaining({ code: ErrorCodes.OPTIONS }));
      expect(() => new StatusPage(world.metering, { token: 'short' })).toThrow(MeterkitError);
      const guarded = new StatusPage(world.metering, { guard: (r) => r.headers['x-admin'] === 'yes', path: '/ops' });
      expect((await guarded.handle({ method: 'GET', url: '/ops.json', headers: {} })).status).toBe(401);
      expect((await guarded.handle({ method: 'GET', url: '/ops.json', headers: { 'x-admin': 'yes' } })).status).toBe(200);
      expect((await guarded.handle({ method: 'GET', url: '/other', headers: { 'x-admin': 'yes' } })).status).toBe(404);
      guarded.close();
    } finally {
      await world.close();
    }
  });
});

describe('StatusPage with contract customers, in headless Chromium', () => {
  const EXPIRES = Date.parse('2027-07-01T00:00:00Z');
  const NOW = Date.parse('2026-07-15T10:42:00Z');
  const license = (n: number): CustomerIdentity => ({
    kind: 'license',
    licenseArn: `arn:aws:license-manager::123456789012:license:l-${String(n).repeat(32)}`,
    customerAwsAccountId: String(n).repeat(12),
    productCode: 'prod-contract',
  });
  const [alice, bob, carol] = [license(1), license(2), license(3)];
  let metering: Metering;
  let statusPage: StatusPage;
  let server: Server;
  let base: string;
  let browser: Browser;
  let subscriptionOnly: StatusPageData;

  beforeAll(async () => {
    // What the page shows is read from the store: no AWS call is made, so no emulator is needed.
    metering = createMetering({
      products: [{ productCode: 'prod-contract', dimensions: ['api_calls'] }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => NOW,
      logger: silentLogger,
      autoStart: false,
    });
    statusPage = new StatusPage(metering, { token: TOKEN });
    await metering.putCustomer({ identity: alice, status: 'active', tenantId: 'tenant-alice' });
    await metering.putCustomer({ identity: bob, status: 'active', tenantId: 'tenant-bob' });
    const headers = { authorization: `Bearer ${TOKEN}` };
    subscriptionOnly = JSON.parse((await statusPage.handle({ method: 'GET', url: '/meterkit/status.json', headers })).body) as StatusPageData;
    const store = metering.store;
    if (!isEntitlementStore(store)) throw new Error('the memory store keeps entitlements');
    const now = NOW;
    await store.putEntitlements({
      customerKey: customerKey(alice),
      productCode: alice.productCode,
      entitlements: [
        { dimension: 'seats', value: 5, valueType: 'integer', expiresAt: EXPIRES },
        { dimension: 'api_calls', value: 100, valueType: 'integer', expiresAt: EXPIRES },
      ],
      fetchedAt: now - 12 * 60_000,
      trigger: 'event:amended-1',
    });
    await store.putEntitlements({ customerKey: customerKey(bob), productCode: bob.productCode, entitlements: [], fetchedAt: now - 3 * 3_600_000, trigger: 'event:ended-1', revoked: true });
    // carol's set was stored by another instance; this one's registry does not hold her.
    await store.putEntitlements({ customerKey: customerKey(carol), productCode: carol.productCode, entitlements: [{ dimension: 'sso', value: true, valueType: 'boolean' }], fetchedAt: now - 26 * 3_600_000, trigger: 'registration' });
    ({ server, url: base } = await serve(statusPage));
    browser = await chromium.launch({ executablePath: process.env['METERKIT_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    statusPage?.close();
    await metering?.close();
  });

  it('JSON: the overview counts contract customers with the newest and oldest refresh; each row carries its set', async () => {
    expect(subscriptionOnly.contracts).toBeUndefined();
    expect(subscriptionOnly.customers.rows.every((r) => r.entitlements === undefined)).toBe(true);
    const data = JSON.parse((await statusPage.handle({ method: 'GET', url: '/meterkit/status.json', headers: { authorization: `Bearer ${TOKEN}` } })).body) as StatusPageData;
    expect(data.contracts).toEqual({ customers: 3, revoked: 1, newestRefreshAt: '2026-07-15T10:30:00.000Z', oldestRefreshAt: '2026-07-14T08:42:00.000Z' });
    const rows = new Map(data.customers.rows.map((r) => [r.key, r]));
    expect(rows.get(customerKey(alice))?.entitlements).toEqual({
      fetchedAt: '2026-07-15T10:30:00.000Z',
      trigger: 'event:amended-1',
      revoked: false,
      values: [
        { dimension: 'seats', value: 5, expiresAt: '2027-07-01T00:00:00.000Z' },
        { dimension: 'api_calls', value: 100, expiresAt: '2027-07-01T00:00:00.000Z' },
      ],
    });
    expect(rows.get(customerKey(bob))?.entitlements).toMatchObject({ revoked: true, values: [] });
    const licenseId = (who: CustomerIdentity) => /l-[A-Za-z0-9]+$/.exec(who.kind === 'license' ? who.licenseArn : '')?.[0];
    expect(rows.get(customerKey(carol))).toMatchObject({ status: 'unregistered', licenseId: licenseId(carol), entitlements: { trigger: 'registration', values: [{ dimension: 'sso', value: true }] } });
    expect(rows.get(customerKey(carol))?.accountId).toBeUndefined();
  });

  it('HTML: a contract customers card, the refresh line, and entitlements with their last refresh per customer', async () => {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => m.type() === 'error' && cspViolations.push(m.text()));
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${TOKEN}` });
    expect((await page.goto(`${base}/meterkit/status`))?.status()).toBe(200);
    const now = NOW;
    const text = async (selector: string) => (await page.locator(selector).textContent())?.trim();
    expect(await text('#count-contracts')).toBe('3');
    expect(await text('#count-contracts + .muted')).toBe('contract customers (1 revoked)');
    expect(await text('#newest-refresh')).toBe(readableTime('2026-07-15T10:30:00.000Z', now));
    expect(await text('#newest-refresh')).toBe('2026-07-15 10:30 UTC (12 min ago)');
    expect(await text('#oldest-refresh')).toBe('2026-07-14 08:42 UTC (1 d 2 h ago)');
    expect(await page.locator('#customers th').allTextContents()).toEqual(expect.arrayContaining(['entitlements', 'last refresh']));

    const cells = async (who: CustomerIdentity) =>
      page.locator(`#customers tr[data-customer="${customerKey(who)}"] td`).evaluateAll((tds) => tds.map((td) => td.textContent?.trim()));
    const aliceCells = await cells(alice);
    expect(aliceCells.slice(0, 4)).toEqual(['tenant-alice', expect.stringMatching(/^l-/), alice.customerAwsAccountId, 'active']);
    expect(aliceCells.slice(-2)).toEqual(['seats 5 · api_calls 100', '2026-07-15 10:30 UTC (12 min ago) event:amended-1']);
    const until = await page.locator(`#customers tr[data-customer="${customerKey(alice)}"] td.entitlements span`).first().getAttribute('title');
    expect(until).toBe(`until ${readableTime(EXPIRES, now)}`);
    expect((await cells(bob)).slice(-2)).toEqual(['revoked', '2026-07-15 07:42 UTC (3 h 0 min ago) event:ended-1']);
    expect(await page.locator(`#customers tr[data-customer="${customerKey(bob)}"] td.entitlements .bad-text`).count()).toBe(1);
    const carolCells = await cells(carol);
    expect(carolCells.slice(2, 4)).toEqual(['—', 'unregistered']);
    expect(carolCells.slice(-2)).toEqual(['sso true', '2026-07-14 08:42 UTC (1 d 2 h ago) registration']);
    expect(cspViolations).toEqual([]);
    await page.close();
  });
});

describe('StatusPage after a real entitlement read from the emulator', () => {
  it('shows the set the engine read with GetEntitlements, with its trigger and time', async () => {
    const emu = await startEmulator({
      now: Date.parse('2026-07-15T10:05:00Z'),
      timeSource: () => 0,
      products: [{ productCode: 'prod-contract', dimensions: [], pricing: 'contract', contractDimensions: ['seats'] }],
    });
    const metering = createMetering({
      products: [{ productCode: 'prod-contract', dimensions: [], pricing: 'contract', entitlements: ['seats'] }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
    });
    const page = new StatusPage(metering, { token: TOKEN });
    try {
      const subscription = await emu.subscribe({ productCode: 'prod-contract', contract: { dimensions: { seats: 7 } } });
      const buyer: CustomerIdentity = { kind: 'license', licenseArn: subscription.licenseArn!, customerAwsAccountId: subscription.accountId, productCode: 'prod-contract' };
      await metering.putCustomer({ identity: buyer, status: 'active', tenantId: 'tenant-contract' });
      await metering.refreshEntitlements(buyer, 'registration');
      emu.clock.set(Date.parse('2026-07-15T10:17:00Z'));
      const headers = { authorization: `Bearer ${TOKEN}` };
      const data = JSON.parse((await page.handle({ method: 'GET', url: '/meterkit/status.json', headers })).body) as StatusPageData;
      expect(data.contracts).toEqual({ customers: 1, revoked: 0, newestRefreshAt: '2026-07-15T10:05:00.000Z', oldestRefreshAt: '2026-07-15T10:05:00.000Z' });
      expect(data.customers.rows).toEqual([
        expect.objectContaining({
          tenantId: 'tenant-contract',
          status: 'active',
          entitlements: { fetchedAt: '2026-07-15T10:05:00.000Z', trigger: 'registration', revoked: false, values: [{ dimension: 'seats', value: 7, expiresAt: expect.stringMatching(/^2027-07-15T/) }] },
        }),
      ]);
      const html = (await page.handle({ method: 'GET', url: '/meterkit/status', headers })).body;
      expect(html).toContain('<div class="n" id="count-contracts">1</div>');
      expect(html).toContain('>seats 7</span></td><td class="refreshed" title="2026-07-15T10:05:00.000Z">2026-07-15 10:05 UTC (12 min ago) <span class="muted">registration</span></td>');
    } finally {
      page.close();
      await metering.close();
      await emu.close();
    }
  });
});
