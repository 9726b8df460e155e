import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DIMENSIONS } from '../src/api';
import { buildApp, REGISTRATION_PATH, type SampleApp } from '../src/app';
import { serve, type RunningServer } from '../src/serve';
import { TenantRegistry } from '../src/tenants';

const PRODUCT = 'prod-sample-api';

describe('express-sample: tenants and API keys survive a restart', () => {
  let dir: string;
  let emu: Emulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'express-sample-restart-'));
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }] });
  });
  afterEach(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One run of the app on the same SQLite files: the meterkit store and the app's own database. */
  async function start(): Promise<{ metering: Metering; sample: SampleApp; running: RunningServer; tenants: TenantRegistry }> {
    const metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }],
      store: `sqlite:${join(dir, 'meterkit.db')}`,
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const tenants = new TenantRegistry({ file: join(dir, 'app.db'), clock: () => emu.clock.now() });
    const sample = buildApp({ metering, tenants, startScheduler: false });
    const running = await serve(sample.app, sample.mk, 0, '127.0.0.1');
    return { metering, sample, running, tenants };
  }

  it('a buyer registered before the restart keeps its API key, and its usage is billed to the same customer', async () => {
    const first = await start();
    const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${first.running.url}${REGISTRATION_PATH}` });
    const welcome = await request(first.sample.app).get(subscription.registration!.location!).expect(200);
    const apiKey = /id="api-key">([^<]+)</.exec(welcome.text)![1]!;
    await request(first.sample.app).get('/v1/reports').set('x-api-key', apiKey).expect(200);
    const [customerBefore] = await first.metering.listCustomers();
    await first.running.stop();
    first.tenants.close();

    const second = await start();
    try {
      const tenant = second.tenants.authenticate(apiKey);
      expect(tenant).toMatchObject({ id: customerBefore!.tenantId, customerKey: customerBefore!.key });
      await request(second.sample.app).get('/v1/reports').set('x-api-key', apiKey).expect(200);
      await request(second.sample.app).get('/v1/reports').set('x-api-key', 'sk_not-a-key').expect(401);

      emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
      await second.metering.flush();
      expect(await second.metering.listCustomers()).toHaveLength(1);
      expect(emu.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' })).toBe(2);
    } finally {
      await second.running.stop().catch(() => undefined);
      second.tenants.close();
    }
  });
});
