import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import request from 'supertest';
import { silentLogger, type Metering } from '@meterkit/core';
import type { Emulator } from '@meterkit/emulator';
import { MeteringService } from '@meterkit/nestjs';
import { AppModule } from '../src/app.module';
import { meteringTarget, type MeteringTarget } from '../src/config/metering-target';
import { commitPolicy, configFromEnv } from '../src/config/sample-config';

const PLATFORMS = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const;

/** Real time while the test runs: the emulator's clock starts from it and the test moves it. */
const REAL_NOW = Date.parse('2026-07-15T10:50:00Z');

describe.each(PLATFORMS)('nestjs-sample on %s: operator settings from the environment take effect', (_name, adapter) => {
  let target: MeteringTarget;
  let emu: Emulator;
  let metering: Metering;
  let app: INestApplication;
  let url: string;

  /** Starts the app as main.ts does, from `env`, on the emulator the configuration asks for. */
  async function start(env: NodeJS.ProcessEnv): Promise<void> {
    const config = configFromEnv(env);
    target = await meteringTarget(config, { timeSource: () => REAL_NOW });
    emu = target.emulator!;
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          // The module starts the engine's timers with the app; the interval persist is pushed out of the test's
          // reach so that only a sync commit can bring usage to the store.
          metering: { ...target.metering, persistIntervalMs: 3_600_000, logger: silentLogger, autoStart: false, retry: { baseDelayMs: 1, maxDelayMs: 5 } },
          commitPolicy: commitPolicy(config),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication(adapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    metering = app.get(MeteringService).metering;
  }
  afterEach(async () => {
    await app?.close();
    await target?.close();
  });

  async function signUp(productCode: string): Promise<{ apiKey: string; licenseArn?: string; customerIdentifier?: string }> {
    const buyer = await emu.subscribe({ productCode, registrationUrl: `${url}/marketplace/register` });
    const welcome = await request(url).get(buyer.registration!.location!);
    expect(welcome.status).toBe(200);
    return { apiKey: welcome.body.apiKey, ...(buyer.licenseArn === undefined ? {} : { licenseArn: buyer.licenseArn }), ...(buyer.customerIdentifier === undefined ? {} : { customerIdentifier: buyer.customerIdentifier }) };
  }

  it('meters the configured product and dimensions, writes each billed request without a persist (sync) and sends a closed hour at once (lock 0)', async () => {
    await start({
      METERKIT_PRODUCT_CODE: 'prod-ops123',
      METERKIT_DIMENSIONS: 'api_calls,gb_processed,exports',
      METERKIT_DURABILITY: 'sync',
      METERKIT_LOCK_MINUTES: '0',
      METERKIT_CLOCK_OFFSET_MINUTES: '-30',
    });
    expect(new Date(emu.clock.now()).toISOString()).toBe('2026-07-15T10:20:00.000Z');
    expect(metering.hasDimension('exports', 'prod-ops123')).toBe(true);
    const buyer = await signUp('prod-ops123');

    // With interval durability the usage would stay in memory until the next persist.
    const persisted = new Promise<void>((resolve) => metering.once('persisted', () => resolve()));
    expect((await request(url).get('/v1/reports').set('x-api-key', buyer.apiKey)).status).toBe(200);
    await persisted;
    expect(await metering.status()).toMatchObject({ inMemory: 0, pending: [{ hour: '2026-07-15T10:00:00.000Z', quantity: 1 }] });

    // One second after the hour closed: with the default 10-minute lock nothing would be due yet.
    emu.clock.set(Date.parse('2026-07-15T11:00:01Z'));
    await metering.flush();
    expect(emu.inspect.totalFor({ licenseArn: buyer.licenseArn!, dimension: 'api_calls' })).toBe(1);
  });

  it('meters a legacy (CustomerIdentifier) listing with METERKIT_IDENTITY=legacy, and sends nothing to AWS in METERKIT_MODE=dry-run', async () => {
    await start({ METERKIT_IDENTITY: 'legacy', METERKIT_MODE: 'dry-run' });
    const buyer = await signUp('prod-nestjs-sample');
    expect(buyer.customerIdentifier).toEqual(expect.any(String));
    expect(await metering.listCustomers()).toEqual([expect.objectContaining({ identity: expect.objectContaining({ customerIdentifier: buyer.customerIdentifier }) })]);
    const recorded = new Promise<void>((resolve) => metering.once('recorded', () => resolve()));
    expect((await request(url).get('/v1/reports').set('x-api-key', buyer.apiKey)).status).toBe(200);
    await recorded;

    const dryRun = new Promise<number>((resolve) => metering.once('dryRun', ({ records }) => resolve(records.length)));
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.persist();
    await metering.flush();
    expect(await dryRun).toBe(1);
    expect(emu.inspect.records()).toEqual([]);
  });
});
