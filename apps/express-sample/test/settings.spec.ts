import { silentLogger, type Metering } from '@meterkit/core';
import type { Emulator } from '@meterkit/emulator';
import request from 'supertest';
import { buildApp, REGISTRATION_PATH, type SampleApp } from '../src/app';
import { commitPolicy, createSampleMetering, readEnv, type MeteringSetup } from '../src/config';
import { serve, type RunningServer } from '../src/serve';

/** Real time while the test runs: the emulator's clock starts from it and the test moves it. */
const REAL_NOW = Date.parse('2026-07-15T10:50:00Z');

describe('express-sample: operator settings from the environment take effect', () => {
  let setup: MeteringSetup;
  let emu: Emulator;
  let metering: Metering;
  let sample: SampleApp;
  let running: RunningServer;

  /**
   * Starts the app as main.ts does, from `env`, on the emulator the configuration asks for. The engine's timers stay
   * off (no persist, no flush of their own): only a sync commit brings usage to the store.
   */
  async function start(env: NodeJS.ProcessEnv): Promise<void> {
    const config = readEnv({ METERKIT_EMULATOR_PORT: '0', METERKIT_STORE: 'memory', ...env });
    setup = await createSampleMetering(config, 'http://127.0.0.1:9/unused', silentLogger, { timeSource: () => REAL_NOW });
    emu = setup.emulator!;
    metering = setup.metering;
    sample = buildApp({ metering, commitPolicy: commitPolicy(config), startScheduler: false });
    running = await serve(sample.app, sample.mk, 0, '127.0.0.1');
  }
  afterEach(async () => {
    await running.stop();
    await emu.close();
  });

  async function signUp(productCode: string): Promise<{ apiKey: string; licenseArn?: string; customerIdentifier?: string }> {
    const buyer = await emu.subscribe({ productCode, registrationUrl: `${running.url}${REGISTRATION_PATH}` });
    const welcome = await request(sample.app).get(buyer.registration!.location!).expect(200);
    const apiKey = /id="api-key">([^<]+)</.exec(welcome.text)![1]!;
    return { apiKey, ...(buyer.licenseArn === undefined ? {} : { licenseArn: buyer.licenseArn }), ...(buyer.customerIdentifier === undefined ? {} : { customerIdentifier: buyer.customerIdentifier }) };
  }

  it('meters the configured product and dimensions, writes each billed request without a persist (sync), bills a 404 (below-500) and sends a closed hour at once (lock 0)', async () => {
    await start({
      METERKIT_PRODUCT_CODE: 'prod-ops123',
      METERKIT_DIMENSIONS: 'api_calls,rows_exported,exports',
      METERKIT_DURABILITY: 'sync',
      METERKIT_COMMIT_ON: 'below-500',
      METERKIT_LOCK_MINUTES: '0',
      METERKIT_CLOCK_OFFSET_MINUTES: '-30',
    });
    expect(new Date(emu.clock.now()).toISOString()).toBe('2026-07-15T10:20:00.000Z');
    expect(metering.hasDimension('exports', 'prod-ops123')).toBe(true);
    expect(metering.hasProduct('prod-sample-team')).toBe(true);
    const buyer = await signUp('prod-ops123');

    // With interval durability the usage would stay in memory until the next persist.
    const persisted = new Promise<void>((resolve) => metering.once('persisted', () => resolve()));
    await request(running.url).get('/v1/reports').set('x-api-key', buyer.apiKey).expect(200);
    await persisted;
    expect(await metering.status()).toMatchObject({ inMemory: 0, pending: [{ hour: '2026-07-15T10:00:00.000Z', quantity: 1 }] });

    const persistedAgain = new Promise<void>((resolve) => metering.once('persisted', () => resolve()));
    await request(running.url).get('/v1/reports/no-such-report').set('x-api-key', buyer.apiKey).expect(404);
    await persistedAgain;
    expect(await metering.status()).toMatchObject({ inMemory: 0, pending: [{ quantity: 2 }] });

    // One second after the hour closed: with the default 10-minute lock nothing would be due yet.
    emu.clock.set(Date.parse('2026-07-15T11:00:01Z'));
    await metering.flush();
    expect(emu.inspect.totalFor({ licenseArn: buyer.licenseArn!, dimension: 'api_calls' })).toBe(2);
  });

  it('meters a legacy (CustomerIdentifier) listing with METERKIT_IDENTITY=legacy, and sends nothing to AWS in METERKIT_MODE=dry-run', async () => {
    await start({ METERKIT_IDENTITY: 'legacy', METERKIT_MODE: 'dry-run' });
    const buyer = await signUp('prod-sample-api');
    expect(buyer.customerIdentifier).toEqual(expect.any(String));
    expect(await metering.listCustomers()).toEqual([expect.objectContaining({ identity: expect.objectContaining({ customerIdentifier: buyer.customerIdentifier }) })]);
    const recorded = new Promise<void>((resolve) => metering.once('recorded', () => resolve()));
    await request(running.url).get('/v1/reports').set('x-api-key', buyer.apiKey).expect(200);
    await recorded;

    const dryRun = new Promise<number>((resolve) => metering.once('dryRun', ({ records }) => resolve(records.length)));
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.persist();
    await metering.flush();
    expect(await dryRun).toBe(1);
    expect(emu.inspect.records()).toEqual([]);
  });
});
