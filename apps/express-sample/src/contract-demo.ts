// The contract demo (dist/demo-contract.js runs it; a test too). The contract-with-consumption product end to end on
// a real port, no AWS account needed: a buyer signs a contract in
// the local AWS Marketplace emulator for 5 seats and 100 API calls a month, registers (the sample reads the contract's
// entitlements with GetEntitlements), opens the seats-only route, and calls the API beyond its quota; a subscription
// buyer calls the same API and is refused the seats-only route. Time is simulated through the emulator's clock; a
// flush bills the hour, and what AWS accepted is compared with what lies above the quota.
import { createMetering, silentLogger, type Metering } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, REGISTRATION_PATH } from './app';
import { emulatorProducts, sampleProducts } from './products';
import { serve } from './serve';

const SUBSCRIPTION = 'prod-sample-api';
const CONTRACT = 'prod-sample-team';
const CONTRACT_TERMS = { seats: 5, api_calls: 100 };
const CONTRACT_CALLS = 130;
const SUBSCRIPTION_CALLS = 20;

function hhmm(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

async function call(url: string, apiKey?: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...(apiKey === undefined ? {} : { headers: { authorization: `Bearer ${apiKey}` } }) });
}

async function ok(url: string, apiKey?: string): Promise<Response> {
  const response = await call(url, apiKey);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return response;
}

export interface ContractDemoResult {
  /** api_calls each buyer made and AWS billed: the contract buyer (umbrella) above its quota only, acme in full. */
  readonly recorded: { readonly umbrella: number; readonly acme: number };
  readonly billed: { readonly umbrella: number; readonly acme: number };
  /** Billed totals that differ from the usage above the quota (0 when the demo shows what it should). */
  readonly mismatches: number;
  readonly duplicates: number;
}

/** Runs the contract demo, printing each step with `log`. */
export async function runContractDemo(log: (line: string) => void = console.log): Promise<ContractDemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-express-contract-demo-'));
  const emulator = await startEmulator({ now: Date.parse('2026-07-15T10:05:00Z'), products: emulatorProducts(SUBSCRIPTION, CONTRACT) });
  const metering = createMetering({
    products: sampleProducts(SUBSCRIPTION, CONTRACT),
    store: `sqlite:${join(dir, 'meterkit.db')}`,
    aws: { region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } },
    clock: () => emulator.clock.now(),
    logger: silentLogger,
    autoStart: false,
  });
  const { app, mk } = buildApp({ metering, startScheduler: false });
  const running = await serve(app, mk, 0, '127.0.0.1');
  try {
    return await demo(log, emulator, metering, running.url);
  } finally {
    await running.stop();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function demo(log: (line: string) => void, emulator: Emulator, metering: Metering, url: string): Promise<ContractDemoResult> {
  log(`express-sample on ${url}, AWS Marketplace emulator on ${emulator.endpoint}`);
  log(`times below are emulated: the emulator's clock starts at ${hhmm(emulator.clock.now())} UTC on 2026-07-15 and is moved past the hour instead of waiting`);

  const register = async (productCode: string, contract?: { dimensions: Record<string, number> }) => {
    const subscription = await emulator.subscribe({ productCode, registrationUrl: `${url}${REGISTRATION_PATH}`, ...(contract === undefined ? {} : { contract }) });
    const location = subscription.registration?.location;
    if (subscription.registration?.status !== 303 || location === undefined) throw new Error(`registration answered ${JSON.stringify(subscription.registration)}`);
    const apiKey = /id="api-key">([^<]+)</.exec(await (await ok(new URL(location, url).href)).text())?.[1];
    if (apiKey === undefined) throw new Error('the welcome page shows no API key');
    return { licenseArn: subscription.licenseArn!, apiKey };
  };

  const umbrella = await register(CONTRACT, { dimensions: CONTRACT_TERMS });
  log(`umbrella  signed a contract for ${CONTRACT} (seats=5, api_calls=100 a month), registered, API key …${umbrella.apiKey.slice(-4)}`);
  const acme = await register(SUBSCRIPTION);
  log(`acme      subscribed to ${SUBSCRIPTION} (pay as you go), registered, API key …${acme.apiKey.slice(-4)}`);

  const team = (await (await ok(`${url}/v1/team`, umbrella.apiKey)).json()) as { seats: number; apiCalls: { includedPerMonth: number; usedThisMonth: number } };
  log(`umbrella  GET /v1/team: 200 seats ${team.seats}, API calls included a month ${team.apiCalls.includedPerMonth}, used ${team.apiCalls.usedThisMonth}`);
  const refused = await call(`${url}/v1/team`, acme.apiKey);
  const refusal = (await refused.json()) as { error: { code: string; message: string } };
  log(`acme      GET /v1/team: ${refused.status} ${refusal.error.code}: ${refusal.error.message}`);

  // Every /v1 call is an api_calls unit: the /v1/team call above counts as well.
  for (let i = 1; i < CONTRACT_CALLS; i++) await ok(`${url}/v1/reports`, umbrella.apiKey);
  for (let i = 0; i < SUBSCRIPTION_CALLS; i++) await ok(`${url}/v1/reports`, acme.apiKey);
  log(`umbrella  made ${CONTRACT_CALLS} API calls in the 10:00 UTC hour (emulated); acme made ${SUBSCRIPTION_CALLS}`);
  await metering.persist();
  // Past the instance's entitlement cache (5 s): the next request reads the allowance counter the persist wrote.
  emulator.clock.set(Date.parse('2026-07-15T10:40:00Z'));
  const after = (await (await ok(`${url}/v1/team`, umbrella.apiKey)).json()) as { apiCalls: { usedThisMonth: number; withinQuota: boolean } };
  log(`umbrella  GET /v1/team: used ${after.apiCalls.usedThisMonth} this month (this call not yet counted), within the quota: ${after.apiCalls.withinQuota}`);
  const recorded = { umbrella: CONTRACT_CALLS + 1, acme: SUBSCRIPTION_CALLS };

  emulator.clock.set(Date.parse('2026-07-15T11:11:00Z'));
  const report = await metering.flush();
  log(`emulated clock moved to ${hhmm(emulator.clock.now())} UTC, past the hour and its 10-minute lock: flush sent ${report.sent} records in ${report.calls} BatchMeterUsage call(s)`);

  const expected = { umbrella: recorded.umbrella - CONTRACT_TERMS.api_calls, acme: recorded.acme };
  const billedBy = { umbrella: 0, acme: 0 };
  let mismatches = 0;
  for (const [name, buyer] of [['umbrella', umbrella], ['acme', acme]] as const) {
    const billed = emulator.inspect.totalFor({ licenseArn: buyer.licenseArn, dimension: 'api_calls' });
    billedBy[name] = billed;
    if (billed !== expected[name]) mismatches++;
    const note = name === 'umbrella' ? `${CONTRACT_TERMS.api_calls} included by the contract` : 'pay as you go';
    log(
      `  ${name.padEnd(9)} api_calls recorded ${String(recorded[name]).padStart(4)}  ${note.padEnd(30)}  billed by AWS ${String(billed).padStart(4)}${billed === expected[name] ? '' : `  MISMATCH (expected ${expected[name]})`}`,
    );
  }
  const duplicates = emulator.inspect.duplicates().length;
  log(`duplicates at AWS: ${duplicates}`);

  if (mismatches === 0 && duplicates === 0) log('only the usage above the contract quota was billed, exactly once');
  return { recorded, billed: billedBy, mismatches, duplicates };
}
