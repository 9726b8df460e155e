#!/usr/bin/env node
// Where an Express server on the DynamoDB store spends what the same server on SQLite does not:
// `node tools/bench/dynamodb-probe.js [rounds] [seconds per load] [variants...]` (default 3 rounds of 5 s; variants
// bare, meterkit (SQLite), meterkit@dynamodb; `<variant>~<option>=<integer>,...` sets engine options, e.g.
// `meterkit@dynamodb~tenantCacheMs=3600000`). Each server runs in its own process (tools/bench/http/server.js through
// probe/server.js, preloaded with probe/server-hook.js), the dynalite in another (probe/dynalite-counting.js); loads alternate
// between the servers round by round. Per variant, over its loads: requests/s, the server's CPU per request, its
// garbage-collection time, the DynamoDB calls it made per second by operation, the dynalite's CPU in the same
// seconds (a share of one core), and the same for an idle period in which no server is loaded.
// PROBE_TIMERS=1 also counts the timers each server arms, by the code that armed them (slows every server alike).
const { fork } = require('node:child_process');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { tenantRequests } = require('./http/apps');

const SERVER = join(__dirname, 'probe', 'server.js');
const HOOK = join(__dirname, 'probe', 'server-hook.js');
const PROFILE_HOOK = join(__dirname, 'http', 'profile-hook.js');
// PROBE_PROFILE=<dir>: each server is CPU-profiled over the measured loads and its profile summarised beside the figures.
const PROFILE_DIR = process.env.PROBE_PROFILE;
const DYNALITE = join(__dirname, 'probe', 'dynalite-counting.js');
const [roundsArg = '3', secondsArg = '5', ...variantArgs] = process.argv.slice(2);
const VARIANTS = variantArgs.length > 0 ? variantArgs : ['bare', 'meterkit', 'meterkit@dynamodb'];
const IDLE_SECONDS = 5;
const WARMUP_SECONDS = Number(process.env.PROBE_WARMUP_SECONDS ?? 2);

function ask(child, message, isReply) {
  return new Promise((resolve) => {
    const on = (reply) => {
      if (!isReply(reply)) return;
      child.off('message', on);
      resolve(reply);
    };
    child.on('message', on);
    child.send(message);
  });
}

async function startDynalite() {
  const child = fork(DYNALITE, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  return { child, endpoint: `http://127.0.0.1:${port}`, stats: () => ask(child, 'stats', (m) => m.calls !== undefined) };
}

async function startServer(variant) {
  const child = fork(SERVER, ['express', variant, '10'], { execArgv: ['-r', HOOK, ...(PROFILE_DIR === undefined ? [] : ['-r', PROFILE_HOOK])], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} exited with ${code}`)));
    child.once('message', resolve);
  });
  child.removeAllListeners('exit');
  return { variant, child, port, probe: () => ask(child, 'probe', (m) => m.probe === true) };
}

const requests = tenantRequests();

function diff(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}

/** The per-command call figures of the server hook, after minus before. */
function callsDiff(after, before) {
  const out = {};
  for (const [k, v] of Object.entries(after)) {
    const b = before[k] ?? { count: 0, attempts: 0, wallMs: 0 };
    if (v.count === b.count) continue;
    out[k] = { count: v.count - b.count, attempts: v.attempts - b.attempts, meanWallMs: round1((v.wallMs - b.wallMs) / (v.count - b.count)), maxWallMs: round1(v.maxWallMs) };
  }
  return out;
}

function add(total, part) {
  for (const [k, v] of Object.entries(part)) total[k] = (total[k] ?? 0) + v;
}

/** The deltas of every server and of the dynalite over `work()`. */
async function measure(servers, dynalite, work) {
  const before = await Promise.all(servers.map((s) => s.probe()));
  const dynBefore = await dynalite.stats();
  const started = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await Promise.all(servers.map((s) => s.probe()));
  const dynAfter = await dynalite.stats();
  return {
    result,
    seconds,
    servers: servers.map((s, i) => ({
      cpuMicros: after[i].cpuMicros - before[i].cpuMicros,
      gcMs: after[i].gc.ms - before[i].gc.ms,
      gcCount: after[i].gc.count - before[i].gc.count,
      gcByKind: diff(after[i].gc.byKind, before[i].gc.byKind),
      outgoing: diff(after[i].outgoing, before[i].outgoing),
      timers: diff(after[i].timers, before[i].timers),
      threads: diff(after[i].threads, before[i].threads),
      sends: diff(after[i].sends, before[i].sends),
      calls: callsDiff(after[i].calls, before[i].calls),
      lookups: after[i].lookups,
      heapUsed: after[i].heapUsed,
    })),
    dynalite: { cpuMicros: dynAfter.cpuMicros - dynBefore.cpuMicros, calls: diff(dynAfter.calls, dynBefore.calls), refused: diff(dynAfter.refused, dynBefore.refused) },
  };
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : round1((sorted[mid - 1] + sorted[mid]) / 2);
};
const round1 = (x) => Math.round(x * 10) / 10;
const perSecond = (counts, seconds) => Object.fromEntries(Object.entries(counts).filter(([, v]) => v > 0).map(([k, v]) => [k, round1(v / seconds)]));

/** Where a frame's code lives: a package under node_modules, meterkit's own packages, node's internals, or V8. */
function areaOf({ url, functionName }) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const parts = url.slice(inModules + 13).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/packages/')) return `meterkit ${url.split('/packages/')[1].split('/')[0]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  return url;
}

/** Self time per request of a .cpuprofile (idle excluded), by area and by frame. */
function summarise(file, requests) {
  const profile = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = {};
  const frames = {};
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const { callFrame } = nodes.get(profile.samples[i]);
    if (callFrame.functionName === '(idle)') continue;
    const micros = profile.timeDeltas[i + 1] ?? 0;
    total += micros;
    const area = areaOf(callFrame);
    areas[area] = (areas[area] ?? 0) + micros;
    const frame = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/packages\//, '')}:${callFrame.lineNumber + 1}`;
    frames[frame] = (frames[frame] ?? 0) + micros;
  }
  const top = (m, count) => Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, v]) => [k, round1(v / requests)]));
  return { profileMicrosPerRequest: round1(total / requests), areas: top(areas, 25), frames: top(frames, 25) };
}

async function main() {
  const dynalite = await startDynalite();
  process.env.BENCH_DYNAMODB_ENDPOINT = dynalite.endpoint;
  const servers = [];
  try {
    for (const v of VARIANTS) servers.push(await startServer(v));
    for (const s of servers) await autocannon({ url: `http://127.0.0.1:${s.port}`, connections: 10, duration: WARMUP_SECONDS, requests });
    if (PROFILE_DIR !== undefined) for (const s of servers) await ask(s.child, 'prof-start', (m) => m.profiling === true);
    const idle = await measure(servers, dynalite, () => new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000)));
    const totals = Object.fromEntries(VARIANTS.map((v) => [v, { seconds: 0, requests: 0, cpuMicros: 0, gcMs: 0, gcCount: 0, gcByKind: {}, outgoing: {}, timers: {}, threads: {}, sends: {}, loads: [], dynCpu: 0, dynCalls: {}, heap: [] }]));
    for (let round = 0; round < Number(roundsArg); round++) {
      const order = servers.map((_, i) => servers[(i + round) % servers.length]);
      for (const s of order) {
        const m = await measure(servers, dynalite, () =>
          autocannon({ url: `http://127.0.0.1:${s.port}`, connections: 10, duration: Number(secondsArg), requests }),
        );
        const mine = m.servers[servers.indexOf(s)];
        const t = totals[s.variant];
        for (const [i, server] of servers.entries()) server.lookups = [...(server.lookups ?? []), ...m.servers[i].lookups];
        const sdkCalls = Object.values(mine.sends).reduce((a, b) => a + b, 0);
        t.loads.push({
          round,
          requestsPerSecond: Math.round(m.result.requests.total / m.seconds),
          cpuMicrosPerRequest: round1(mine.cpuMicros / m.result.requests.total),
          gcMicrosPerRequest: round1((mine.gcMs * 1000) / m.result.requests.total),
          ...(sdkCalls === 0 ? {} : { calls: mine.calls, dynaliteRefused: m.dynalite.refused, sdkCalls, customerLookups: Object.entries(mine.sends).filter(([k]) => k.includes('findCustomerByTenant')).reduce((a, [, v]) => a + v, 0) }),
        });
        t.seconds += m.seconds;
        t.requests += m.result.requests.total;
        t.cpuMicros += mine.cpuMicros;
        t.gcMs += mine.gcMs;
        t.gcCount += mine.gcCount;
        add(t.gcByKind, mine.gcByKind);
        add(t.outgoing, mine.outgoing);
        add(t.timers, mine.timers);
        add(t.threads, mine.threads);
        add(t.sends, mine.sends);
        t.dynCpu += m.dynalite.cpuMicros;
        add(t.dynCalls, m.dynalite.calls);
        t.heap.push(Math.round(mine.heapUsed / 1e6));
      }
    }
    const report = {
      idle: {
        seconds: round1(idle.seconds),
        dynaliteCpuShare: round1((idle.dynalite.cpuMicros / 1e6 / idle.seconds) * 100) / 100,
        dynaliteCallsPerSecond: perSecond(idle.dynalite.calls, idle.seconds),
        servers: Object.fromEntries(
          VARIANTS.map((v, i) => [
            v,
            {
              cpuMsPerSecond: round1(idle.servers[i].cpuMicros / 1000 / idle.seconds),
              gcMsPerSecond: round1(idle.servers[i].gcMs / idle.seconds),
              threadCpuMsPerSecond: Object.fromEntries(Object.entries(idle.servers[i].threads).map(([k, ms]) => [k, round1(ms / idle.seconds)])),
              outgoingPerSecond: perSecond(idle.servers[i].outgoing, idle.seconds),
              sendsPerSecond: perSecond(idle.servers[i].sends, idle.seconds),
              timersPerSecond: perSecond(idle.servers[i].timers, idle.seconds),
            },
          ]),
        ),
      },
      loaded: Object.fromEntries(
        Object.entries(totals).map(([v, t]) => [
          v,
          {
            requestsPerSecond: Math.round(t.requests / t.seconds),
            cpuMicrosPerRequest: round1(t.cpuMicros / t.requests),
            // Medians over the loads: a load slowed by the rest of the machine weighs no more than the others.
            medianRequestsPerSecond: median(t.loads.map((l) => l.requestsPerSecond)),
            medianCpuMicrosPerRequest: median(t.loads.map((l) => l.cpuMicrosPerRequest)),
            medianCpuOverFirstVariant: median(t.loads.map((l, i) => round1(l.cpuMicrosPerRequest - totals[VARIANTS[0]].loads[i].cpuMicrosPerRequest))),
            serverCpuShare: round1((t.cpuMicros / 1e6 / t.seconds) * 100) / 100,
            threadCpuMicrosPerRequest: Object.fromEntries(Object.entries(t.threads).map(([k, ms]) => [k, round1((ms * 1000) / t.requests)])),
            gcMicrosPerRequest: round1((t.gcMs * 1000) / t.requests),
            gcMsPerSecond: round1(t.gcMs / t.seconds),
            gcCountPerSecond: round1(t.gcCount / t.seconds),
            gcMsByKind: Object.fromEntries(Object.entries(t.gcByKind).map(([k, ms]) => [k, round1(ms)])),
            heapUsedMbAfterEachLoad: t.heap,
            serverCallsPerSecond: perSecond(t.outgoing, t.seconds),
            sendsPerSecond: perSecond(t.sends, t.seconds),
            dynaliteCpuShare: round1((t.dynCpu / 1e6 / t.seconds) * 100) / 100,
            dynaliteCallsPerSecond: perSecond(t.dynCalls, t.seconds),
            timersPerSecond: perSecond(t.timers, t.seconds),
            loads: t.loads,
          },
        ]),
      ),
    };
    if (PROFILE_DIR !== undefined) {
      report.profiles = {};
      for (const s of servers) {
        const file = join(PROFILE_DIR, `${s.variant}.cpuprofile`);
        await ask(s.child, { profStop: file }, (m) => m.profiled !== undefined);
        report.profiles[s.variant] = summarise(file, totals[s.variant].requests);
      }
    }
    if (process.env.PROBE_LOOKUPS === '1') report.lookups = Object.fromEntries(servers.map((s) => [s.variant, s.lookups ?? []]));
    console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const s of servers) await ask(s.child, 'stop', (m) => m !== null && typeof m === 'object' && 'units' in m).catch(() => undefined);
    dynalite.child.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
