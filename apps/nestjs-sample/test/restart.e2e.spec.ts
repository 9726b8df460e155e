import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import request from 'supertest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { silentLogger } from '@meterkit/core';
import { MeteringService } from '@meterkit/nestjs';
import { AppModule } from '../src/app.module';
import { DIMENSIONS, SAMPLE_PRODUCT } from '../src/config/sample-config';

describe('nestjs-sample: tenants and API keys survive a restart', () => {
  let dir: string;
  let emu: Emulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nestjs-sample-restart-'));
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }] });
  });
  afterEach(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One run of the app on the same SQLite files: the meterkit store and the app's own database. */
  async function start(): Promise<{ app: INestApplication; url: string }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          metering: {
            products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
            store: `sqlite:${join(dir, 'meterkit.db')}`,
            aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
            clock: () => emu.clock.now(),
            logger: silentLogger,
            autoStart: false,
          },
          appDb: join(dir, 'app.db'),
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
  }

  it('a buyer registered before the restart keeps its API key, and its usage is billed to the same customer', async () => {
    const first = await start();
    const subscription = await emu.subscribe({ productCode: SAMPLE_PRODUCT, registrationUrl: `${first.url}/marketplace/register` });
    const apiKey = (await request(first.url).get(subscription.registration!.location!).expect(200)).body.apiKey as string;
    await request(first.url).get('/v1/reports').set('x-api-key', apiKey).expect(200);
    const [customerBefore] = await first.app.get(MeteringService).metering.listCustomers();
    await first.app.close();

    const second = await start();
    try {
      await request(second.url).get('/v1/reports').set('x-api-key', apiKey).expect(200);
      await request(second.url).get('/v1/reports').set('x-api-key', 'sk_not-a-key').expect(401);

      emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
      const { metering } = second.app.get(MeteringService);
      await metering.flush();
      expect(await metering.listCustomers()).toEqual([expect.objectContaining({ key: customerBefore!.key, tenantId: customerBefore!.tenantId })]);
      expect(emu.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' })).toBe(2);
    } finally {
      await second.app.close();
    }
  });
});
