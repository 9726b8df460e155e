// The sample in dev mode (METERKIT_EMULATOR_SPEED) bills a request's usage at the emulator once the emulated hour
// and its lock have passed, through its own scheduler: no clock moved by hand, no flush() called by the test.
// The emulator's real time is the test's, so 35 "real" seconds pass at once.
import { silentLogger } from '@meterkit/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, REGISTRATION_PATH } from '../src/app';
import { createSampleMetering, readEnv, type MeteringSetup } from '../src/config';
import { serve, type RunningServer } from '../src/serve';

describe('express-sample with accelerated emulated time', () => {
  let dir: string;
  let setup: MeteringSetup;
  let running: RunningServer;
  let real = Date.parse('2026-07-15T10:05:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'express-sample-speed-'));
    const env = readEnv({ METERKIT_EMULATOR_SPEED: '120', METERKIT_EMULATOR_PORT: '0', METERKIT_STORE: `sqlite:${join(dir, 'meterkit.db')}` });
    setup = await createSampleMetering(env, 'http://127.0.0.1:9/unused', silentLogger, { timeSource: () => real });
    const { app, mk } = buildApp({ metering: setup.metering });
    running = await serve(app, mk, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await running.stop();
    await setup.emulator!.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bills the usage of an emulated hour by itself within 35 real seconds of it', async () => {
    const emulator = setup.emulator!;
    expect(emulator.clock.speed).toBe(120);
    const subscription = await emulator.subscribe({ productCode: 'prod-sample-api', registrationUrl: `${running.url}${REGISTRATION_PATH}` });
    const welcome = await (await fetch(new URL(subscription.registration!.location!, running.url))).text();
    const apiKey = /id="api-key">([^<]+)</.exec(welcome)![1]!;
    for (let i = 0; i < 7; i++) expect((await fetch(`${running.url}/v1/reports`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);

    // Still the 10:00 hour: nothing is due, whatever the scheduler does meanwhile.
    expect((await setup.metering.flush()).sent).toBe(0);
    expect(new Date(emulator.clock.now()).toISOString()).toBe('2026-07-15T10:05:00.000Z');

    real += 35_000; // 70 emulated minutes: 11:15, past the hour and its 10-minute lock
    expect(new Date(setup.metering.now()).toISOString()).toBe('2026-07-15T11:15:00.000Z');
    const billed = () => emulator.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' });
    while (billed() < 7) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(billed()).toBe(7);
    expect(emulator.inspect.records()).toEqual([expect.objectContaining({ hour: Date.parse('2026-07-15T10:00:00Z'), quantity: 7 })]);
  });
});
