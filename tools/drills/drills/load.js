// Load: sustained concurrent traffic (autocannon) against the drill app, sampling its memory every few seconds.
// Memory must stay flat (heap slope per 100k requests after warm-up) and every answered request must be billed.
const autocannon = require('autocannon');
const { SqliteStore } = require('@meterkit/core');
const { startApp } = require('../lib/app-process');
const { startWorld, sendAll, compare, PRODUCT, DIMENSIONS } = require('../lib/world');
const { dbFile } = require('../lib/files');

const MiB = 1024 * 1024;
/** Heap growth per 100k requests above which memory is not flat. */
const MAX_HEAP_SLOPE_MIB = 2;

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function loadDrill(size) {
  const world = await startWorld({ tenantCount: 1 });
  const path = dbFile('load');
  const app = await startApp({
    productCode: PRODUCT,
    dimensions: DIMENSIONS,
    store: { kind: 'sqlite', path, busyTimeoutMs: 2000 },
    durability: 'interval',
    persistIntervalMs: 1000,
    commit: 'finish',
    emulatorEndpoint: world.emu.endpoint,
    tenants: world.tenants,
    sampleMs: size.sampleMs,
  });
  try {
    const result = await autocannon({
      url: `${app.url}/work?units=1`,
      connections: size.connections,
      duration: size.durationSec,
      headers: { 'x-tenant': 't0' },
    });
    await app.stop();
    await sendAll(world, new SqliteStore({ path }));
    const answered = result['2xx'];
    const totals = compare(world, new Map([
      ['t0|api_calls', answered],
      ['t0|gb_processed', answered],
    ]));
    const calls = world.emu.inspect.totalFor({ licenseArn: world.tenants.t0.licenseArn, dimension: 'api_calls' });
    // Requests in flight when autocannon stopped were served and billed but not counted by the client.
    const unanswered = calls - answered;
    const samples = app.samples;
    const warm = samples.slice(Math.floor(samples.length / 5));
    const heapSlope = (slope(warm.map((s) => ({ x: s.served, y: s.heapUsed }))) * 100_000) / MiB;
    const rssSlope = (slope(warm.map((s) => ({ x: s.served, y: s.rss }))) * 100_000) / MiB;
    const mib = (v) => `${(v / MiB).toFixed(0)}`;
    const heap = samples.map((s) => s.heapUsed);
    const rss = samples.map((s) => s.rss);
    const memory =
      `heap after GC: start ${mib(heap[0])} / end ${mib(heap.at(-1))} / max ${mib(Math.max(...heap))} MiB, ${heapSlope.toFixed(2)} MiB per 100k requests; ` +
      `RSS ${mib(rss[0])} / ${mib(rss.at(-1))} / ${mib(Math.max(...rss))} MiB, ${rssSlope.toFixed(2)} MiB per 100k`;
    const ok = samples.length >= 4 && heapSlope < MAX_HEAP_SLOPE_MIB && unanswered >= 0 && unanswered <= size.connections && result.non2xx === 0 && totals.duplicates === 0;
    return {
      drill: `load: ${size.durationSec} s, ${size.connections} connections, ${answered} requests (${Math.round(result.requests.average)}/s)`,
      runs: 1,
      faults: 'none',
      records: totals.records,
      expected: 2 * answered,
      accepted: totals.acceptedUnits,
      loss: `${Math.max(0, -unanswered)}; ${Math.max(0, unanswered)} in flight at the stop billed, unanswered; ${memory}`,
      duplicates: totals.duplicates,
      verdict: ok ? 'pass' : 'FAIL',
      details: { requests: result.requests.total, non2xx: result.non2xx, errors: result.errors, latencyP99: result.latency.p99, samples: samples.length, heapSlope, rssSlope },
    };
  } finally {
    if (app.child.exitCode === null && app.child.signalCode === null) await app.kill();
    await world.emu.close();
  }
}

module.exports = { loadDrill };
