import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ErrorCodes, MeterkitError, StatusPage, type StatusPageData } from '../src';
import { startWorld, type World } from './support/world';

const TOKEN = 'status-token-0123456789abcdef';

async function serve(page: StatusPage): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    page
      .handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers })
      .then((r) => res.writeHead(r.status, r.headers).end(r.body))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('StatusPage in headless Chromium after a real flush to the emulator', () => {
  let world: World;
  let browser: Browser;
  let server: Server;
  let base: string;
  let statusPage: StatusPage;

  beforeAll(async () => {
    world = await startWorld();
    const { metering, emu } = world;
    statusPage = new StatusPage(metering, { token: TOKEN });
    const alice = await world.license();
    const bob = await world.license();
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
    page.on('console', (m) => m.type() === 'error' && cspViolations.push(m.text()));
    const response = await page.goto(`${base}/meterkit/status?token=${TOKEN}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; style-src 'sha256-/);

    const text = async (id: string) => (await page.locator(`#${id}`).textContent())?.trim();
    const c = status.counts;
    expect(await text('count-pending')).toBe(String(c.open + c.pending + c.sending));
    expect(await text('count-sent')).toBe(String(c.sent));
    expect(await text('count-rejected')).toBe(String(c.rejected));
    expect(await text('count-expired')).toBe(String(c.expired));
    const headroomMinutes = Math.floor(status.oldestWindowLeftMs! / 60_000);
    expect(await text('window-headroom')).toBe(`${Math.floor(headroomMinutes / 60)} h ${headroomMinutes % 60} min`);

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

  it('is unreachable without the token: 401 page without data, JSON 401, wrong token, and a bearer header works', async () => {
    const page = await browser.newPage();
    for (const path of ['/meterkit/status', `/meterkit/status?token=${TOKEN.slice(0, -1)}x`]) {
      const response = await page.goto(`${base}${path}`);
      expect(response?.status()).toBe(401);
      const body = (await page.locator('body').textContent()) ?? '';
      expect(body).toContain('401 Unauthorized');
      expect(body).not.toMatch(/sent|pending|api_calls/);
    }
    const json = await page.request.get(`${base}/meterkit/status.json`);
    expect(json.status()).toBe(401);
    expect(await json.text()).toBe('{"error":"unauthorized"}');

    const authorized = await page.request.get(`${base}/meterkit/status.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(authorized.status()).toBe(200);
    const data = (await authorized.json()) as StatusPageData;
    expect(data.sent).toBe((await world.metering.status()).counts.sent);
    expect(data.usage).toHaveLength(24);
    const viaQuery = await page.request.get(`${base}/meterkit/status?format=json&token=${TOKEN}`);
    expect(((await viaQuery.json()) as StatusPageData).rejected).toBe(1);
    expect((await page.request.post(`${base}/meterkit/status?token=${TOKEN}`)).status()).toBe(405);
    await page.close();
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
