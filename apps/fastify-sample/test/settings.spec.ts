import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import type { Emulator } from '@meterkit/emulator';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { commitPolicy, configFromEnv } from '../src/config';
import { meteringTarget, type MeteringTarget } from '../src/metering-target';
import { Tenants } from '../src/tenants';

/** Real time while the test runs: the emulator's clock starts from it and the test moves it. */
const REAL_NOW = Date.parse('2026-07-15T10:50:00Z');

describe('fastify-sample: operator settings from the environment take effect', () => {
  let target: MeteringTarget;
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance;
  let base: string;

  /** Starts the app as main.ts does, from `env`, on the emulator the configuration asks for. */
  async function start(env: NodeJS.ProcessEnv): Promise<void> {
    const config = configFromEnv({ METERKIT_EMULATOR_PORT: '0', METERKIT_STORE: 'memory', ...env });
    target = await meteringTarget(config, { timeSource: () => REAL_NOW });
    emu = target.emulator!;
    // The plugin starts the engine's timers when the app listens; the interval persist is pushed out of the test's
    // reach so that only a sync commit can bring usage to the store.
    metering = createMetering({ ...target.options, persistIntervalMs: 3_600_000, logger: silentLogger, autoStart: false, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    app = await buildApp({ metering, commitPolicy: commitPolicy(config), tenants: new Tenants({ clock: () => emu.clock.now() }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }
  afterEach(async () => {
    await app.close();
    await target.close();
  });

  async function signUp(productCode: string): Promise<{ apiKey: string; licenseArn?: string; customerIdentifier?: string }> {
    const buyer = await emu.subscribe({ productCode, registrationUrl: `${base}/marketplace/register` });
    const { apiKey } = (await app.inject({ url: buyer.registration!.location! })).json() as { apiKey: string };
    return { apiKey, ...(buyer.licenseArn === undefined ? {} : { licenseArn: buyer.licenseArn }), ...(buyer.customerIdentifier === undefined ? {} : { customerIdentifier: buyer.customerIdentifier }) };
  }

  it('meters the configured product and dimensions, writes each billed request before any persist (sync), bills 4xx (below-500) and sends a closed hour at once (lock 0)', async () => {
    await start({
      METERKIT_PRODUCT_CODE: 'prod-ops123',
      METERKIT_DIMENSIONS: 'api_calls,gb_processed,exports',
      METERKIT_DURABILITY: 'sync',
      METERKIT_COMMIT_ON: 'below-500',
      METERKIT_LOCK_MINUTES: '0',
      METERKIT_CLOCK_OFFSET_MINUTES: '-30',
    });
    expect(new Date(emu.clock.now()).toISOString()).toBe('2026-07-15T10:20:00.000Z');
    expect(metering.hasDimension('exports', 'prod-ops123')).toBe(true);
    const buyer = await signUp('prod-ops123');

    // With interval durability the usage would stay in memory until the next persist.
    const persisted = new Promise<void>((resolve) => metering.once('persisted', () => resolve()));
    expect((await fetch(`${base}/v1/reports`, { headers: { 'x-api-key': buyer.apiKey } })).status).toBe(200);
    await persisted;
    expect(await metering.status()).toMatchObject({ inMemory: 0, pending: [{ hour: '2026-07-15T10:00:00.000Z', quantity: 1 }] });

    const persistedAgain = new Promise<void>((resolve) => metering.once('persisted', () => resolve()));
    const invalid = await fetch(`${base}/v1/process`, { method: 'POST', headers: { 'x-api-key': buyer.apiKey, 'content-type': 'application/json' }, body: '{"files": []}' });
    expect(invalid.status).toBe(400);
    await persistedAgain;
    expect(await metering.status()).toMatchObject({ inMemory: 0, pending: [{ quantity: 2 }] });

    // One second after the hour closed: with the default 10-minute lock nothing would be due yet.
    emu.clock.set(Date.parse('2026-07-15T11:00:01Z'));
    await metering.flush();
    expect(emu.inspect.totalFor({ licenseArn: buyer.licenseArn!, dimension: 'api_calls' })).toBe(2);
  });

  it('meters a legacy (CustomerIdentifier) listing with METERKIT_IDENTITY=legacy, and sends nothing to AWS in METERKIT_MODE=dry-run', async () => {
    await start({ METERKIT_IDENTITY: 'legacy', METERKIT_MODE: 'dry-run' });
    const buyer = await signUp('prod-sample123');
    expect(buyer.customerIdentifier).toEqual(expect.any(String));
    expect(await metering.listCustomers()).toEqual([expect.objectContaining({ identity: expect.objectContaining({ customerIdentifier: buyer.customerIdentifier }) })]);
    const recorded = new Promise<void>((resolve) => metering.once('recorded', () => resolve()));
    expect((await app.inject({ url: '/v1/reports', headers: { 'x-api-key': buyer.apiKey } })).statusCode).toBe(200);
    await recorded;

    const dryRun = new Promise<number>((resolve) => metering.once('dryRun', ({ records }) => resolve(records.length)));
    emu.clock.set(Date.parse('2026-07-15T11:11:00Z'));
    await metering.persist();
    await metering.flush();
    expect(await dryRun).toBe(1);
    expect(emu.inspect.records()).toEqual([]);
  });
});
