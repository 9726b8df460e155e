// Crash: the app is SIGKILLed under load several times and restarted on the same SQLite file. Ground truth: the
// successful responses the client saw. sync + commit awaited before the answer must be exact; interval loses at
// most what was answered in the last persist interval(s) before each kill; sync + commit at 'finish' (the
// adapter's default) is measured: its answer leaves before the write.
const { setTimeout: sleep } = require('node:timers/promises');
const { SqliteStore } = require('@meterkit/core');
const { mulberry32 } = require('@meterkit/emulator');
const { startApp } = require('../lib/app-process');
const { Traffic } = require('../lib/traffic');
const { startWorld, sendAll, compare, PRODUCT, DIMENSIONS } = require('../lib/world');
const { dbFile } = require('../lib/files');

const PERSIST_INTERVAL_MS = 1000;

const VARIANTS = [
  { name: "crash: sync, commit awaited before the answer", durability: 'sync', commit: 'await', invariant: 'exact', seed: 1 },
  { name: "crash: interval (1 s), commit at 'finish'", durability: 'interval', commit: 'finish', invariant: 'bounded', seed: 2 },
  { name: "crash: sync, commit at 'finish' (adapter default)", durability: 'sync', commit: 'finish', invariant: 'measured', seed: 3 },
];

async function runVariant(variant, size) {
  const world = await startWorld({ tenantCount: size.tenants });
  const path = dbFile('crash');
  const appConfig = {
    productCode: PRODUCT,
    dimensions: DIMENSIONS,
    store: { kind: 'sqlite', path, busyTimeoutMs: 2000 },
    durability: variant.durability,
    persistIntervalMs: PERSIST_INTERVAL_MS,
    commit: variant.commit,
    emulatorEndpoint: world.emu.endpoint,
    tenants: world.tenants,
    sampleMs: 0,
  };
  let current;
  const traffic = new Traffic({ target: () => current?.url, tenants: world.tenantIds, concurrency: size.concurrency });
  const kills = [];
  const random = mulberry32(variant.seed);
  try {
    for (let i = 0; i < size.kills; i++) {
      current = await startApp(appConfig);
      if (i === 0) traffic.start();
      // A kill at a fixed delay after start would always land at the same phase of the persist timer.
      await sleep(size.runMs + Math.floor(random() * PERSIST_INTERVAL_MS));
      const app = current;
      current = undefined;
      await app.kill();
      kills.push(Date.now());
    }
    await traffic.stop();
    await sleep(50);
    await sendAll(world, new SqliteStore({ path }));
    const result = compare(world, traffic.expected);
    // Requests per tenant (one api_calls unit each): answered but not billed, billed but not answered.
    const { under, over } = requestsDiff(world, traffic.expected);
    // A persist tick runs every interval; the write itself and timer lag on a busy machine get 500 ms.
    const window = PERSIST_INTERVAL_MS + 500;
    const bound = kills.reduce((n, k) => n + traffic.successesBetween(k - window, k + 250), 0);
    // A kill can cut off answers already written (their connection is reset): those requests were billed.
    const inFlightBound = size.kills * size.concurrency;
    let verdict;
    if (result.duplicates > 0 || result.sentTwice > 0 || over > inFlightBound) verdict = 'FAIL';
    else if (variant.invariant === 'exact') verdict = under === 0 ? 'pass' : 'FAIL';
    else if (variant.invariant === 'bounded') verdict = under <= bound ? 'pass' : 'FAIL';
    else verdict = 'measured';
    const lossText =
      `${under} of ${traffic.ok} answered requests lost (${pct(under, traffic.ok)})` +
      (variant.invariant === 'exact' ? '' : `, bound: ${bound} answered in the last ${window} ms before the kills`) +
      `; ${over} billed whose answer the kill cut off (bound ${inFlightBound})`;
    return {
      drill: variant.name,
      runs: size.kills,
      faults: `${size.kills} x SIGKILL`,
      records: result.records,
      expected: result.expectedUnits,
      accepted: result.acceptedUnits,
      loss: lossText,
      duplicates: result.duplicates,
      verdict,
      details: { requests: traffic.ok, failedRequests: traffic.failed, non2xx: traffic.non2xx, under, over, bound, mismatches: result.mismatches.slice(0, 4) },
    };
  } finally {
    current = undefined;
    await traffic.stop();
    await world.emu.close();
  }
}

function requestsDiff(world, expected) {
  let under = 0;
  let over = 0;
  for (const tenant of world.tenantIds) {
    const want = expected.get(`${tenant}|api_calls`) ?? 0;
    const got = world.emu.inspect.totalFor({ licenseArn: world.tenants[tenant].licenseArn, dimension: 'api_calls' });
    under += Math.max(0, want - got);
    over += Math.max(0, got - want);
  }
  return { under, over };
}

function pct(part, whole) {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(2)}%`;
}

async function crashDrill(size) {
  const rows = [];
  for (const variant of VARIANTS) rows.push(await runVariant(variant, size));
  return rows;
}

module.exports = { crashDrill };
