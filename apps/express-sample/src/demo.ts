// The sample end to end on a real port, no AWS account needed: buyers subscribe in a local AWS Marketplace emulator,
// which posts their registration tokens to the sample like AWS does; each follows the redirect to get its API key,
// then calls the API a few hundred times. Time is simulated through the emulator's clock, so the hour closes in
// seconds; a flush bills it with BatchMeterUsage and the totals AWS accepted are compared with what was recorded.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { createMetering, silentLogger } from '@meterkit/core';
import { startEmulator } from '@meterkit/emulator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIMENSIONS } from './api';
import { buildApp, REGISTRATION_PATH } from './app';
import { serve } from './serve';

const PRODUCT = 'prod-sample-api';
const BUYERS = ['acme', 'globex', 'initech'];
const REQUESTS = 360;
const EXPORTS = ['daily-active-users', 'revenue-by-region', 'churn-cohorts'];

type Totals = Record<(typeof DIMENSIONS)[number], number>;

function hhmm(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

async function call(url: string, init: RequestInit & { apiKey?: string }): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.apiKey !== undefined) headers.set('authorization', `Bearer ${init.apiKey}`);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${await response.text()}`);
  return response;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-express-demo-'));
  const emulator = await startEmulator({ now: Date.parse('2026-07-15T10:05:00Z'), products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }] });
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: [...DIMENSIONS] }],
    store: `sqlite:${join(dir, 'meterkit.db')}`,
    aws: { region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } },
    clock: () => emulator.clock.now(),
    logger: silentLogger,
    autoStart: false,
  });
  const { app, mk } = buildApp({ metering });
  const running = await serve(app, mk, 0, '127.0.0.1');
  console.log(`express-sample on ${running.url}, AWS Marketplace Metering emulator on ${emulator.endpoint}`);
  console.log(
    `times below are emulated, not real: the emulator's clock, which the app's metering follows, starts at ${hhmm(emulator.clock.now())} UTC on ${new Date(emulator.clock.now()).toISOString().slice(0, 10)} and is moved past the hour instead of waiting for it`,
  );

  const buyers: Array<{ name: string; licenseArn: string; apiKey: string; recorded: Totals }> = [];
  for (const name of BUYERS) {
    const subscription = await emulator.subscribe({ productCode: PRODUCT, registrationUrl: `${running.url}${REGISTRATION_PATH}` });
    const location = subscription.registration?.location;
    if (subscription.registration?.status !== 303 || location === undefined) throw new Error(`registration answered ${JSON.stringify(subscription.registration)}`);
    const welcome = await (await call(new URL(location, running.url).href, {})).text();
    const apiKey = /id="api-key">([^<]+)</.exec(welcome)?.[1];
    if (apiKey === undefined) throw new Error('the welcome page shows no API key');
    buyers.push({ name, licenseArn: subscription.licenseArn!, apiKey, recorded: { api_calls: 0, rows_exported: 0 } });
    console.log(`${name.padEnd(8)} subscribed, registered (303 ${location.split('?')[0]}), API key …${apiKey.slice(-4)}`);
  }

  let anonymous = 0;
  for (let start = 0; start < REQUESTS; start += 24) {
    await Promise.all(
      Array.from({ length: Math.min(24, REQUESTS - start) }, async (_, offset) => {
        const i = start + offset;
        const share = (i * 7) % 12;
        const buyer = buyers[share < 6 ? 0 : share < 10 ? 1 : 2]!;
        if (i % 5 === 4) {
          await call(`${running.url}/v1/catalog`, {});
          anonymous++;
        } else if (i % 5 === 0) {
          const body = JSON.stringify({ report: EXPORTS[i % EXPORTS.length], limit: (i * 37) % 500 + 1 });
          const answer = (await (await call(`${running.url}/v1/exports`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, apiKey: buyer.apiKey })).json()) as { rows: number };
          buyer.recorded.api_calls += 1;
          buyer.recorded.rows_exported += answer.rows;
        } else {
          await call(`${running.url}/v1/${i % 2 === 0 ? 'reports' : 'catalog'}`, { apiKey: buyer.apiKey });
          buyer.recorded.api_calls += 1;
        }
      }),
    );
  }
  console.log(`sent ${REQUESTS} HTTP requests in the 10:00 UTC hour, emulated (${anonymous} anonymous, not metered)`);

  emulator.clock.set(Date.parse('2026-07-15T11:11:00Z'));
  const report = await metering.flush();
  console.log(`emulated clock moved to ${hhmm(emulator.clock.now())} UTC, past the hour and its 10-minute lock: flush sent ${report.sent} records in ${report.calls} BatchMeterUsage call(s)`);

  let mismatches = 0;
  for (const buyer of buyers) {
    for (const dimension of DIMENSIONS) {
      const accepted = emulator.inspect.totalFor({ licenseArn: buyer.licenseArn, dimension });
      const recorded = buyer.recorded[dimension];
      if (accepted !== recorded) mismatches++;
      console.log(`  ${buyer.name.padEnd(8)} ${dimension.padEnd(13)} recorded ${String(recorded).padStart(6)}  accepted by AWS ${String(accepted).padStart(6)}${accepted === recorded ? '' : '  MISMATCH'}`);
    }
  }
  const duplicates = emulator.inspect.duplicates().length;
  console.log(`duplicates at AWS: ${duplicates}`);

  await running.stop();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
  if (mismatches > 0 || duplicates > 0) {
    console.error(`${mismatches} totals differ between recorded and billed usage`);
    process.exit(1);
  }
  console.log('every unit recorded was billed exactly once');
  console.log('to watch a running app bill its usage within a minute of real time: METERKIT_EMULATOR_SPEED=120 (docs/local-development.md)');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
