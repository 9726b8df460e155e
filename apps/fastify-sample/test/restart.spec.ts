import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app';
import { Tenants } from '../src/tenants';

const PRODUCT = 'prod-sample123';

describe('fastify-sample: tenants and API keys survive a restart', () => {
  let dir: string;
  let emu: Emulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fastify-sample-restart-'));
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }] });
  });
  afterEach(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One run of the app on the same SQLite files: the meterkit store and the app's own database. */
  async function start(): Promise<{ metering: Metering; app: FastifyInstance; base: string; tenants: Tenants }> {
    const metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }],
      store: `sqlite:${join(dir, 'meterkit.db')}`,
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const tenants = new Tenants({ file: join(dir, 'app.db'), clock: () => emu.clock.now() });
    const app = await buildApp({ metering, tenants });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { metering, app, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, tenants };
  }

  const reports = (app: FastifyInstance, apiKey: string) => app.inject({ url: '/v1/reports', headers: { 'x-api-key': apiKey } });

  it('a buyer registered before the restart keeps its API key, and its usage is billed to the same customer', async () => {
    const first = await start();
    const buyer = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${first.base}/marketplace/register` });
    const { apiKey } = (await first.app.inject({ url: buyer.registration!.location! })).json() as { apiKey: string };
    expect((await reports(first.app, apiKey)).statusCode).toBe(200);
    const [customerBefore] = await first.metering.listCustomers();
    await first.app.close();
    first.tenants.close();

    const second = await start();
    try {
      expect(second.tenants.authenticate(apiKey)).toMatchObject({ id: customerBefore!.tenantId });
      expect((await reports(second.app, apiKey)).statusCode).toBe(200);
      expect((await reports(second.app, 'sk_not-a-key')).statusCode).toBe(401);

      emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
      await second.metering.flush();
      expect(await second.metering.listCustomers()).toEqual([expect.objectContaining({ key: customerBefore!.key, tenantId: customerBefore!.tenantId })]);
      expect(emu.inspect.totalFor({ licenseArn: buyer.licenseArn!, dimension: 'api_calls' })).toBe(2);
    } finally {
      await second.app.close();
      second.tenants.close();
    }
  });
});
