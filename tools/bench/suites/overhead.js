#!/usr/bin/env node
// Request overhead per framework: the same route bare, with meterkit recording one unit per request (SQLite
// default store in a temp dir, interval durability; Express also on PostgreSQL and on DynamoDB through a dynalite
// this suite starts), with the framework's usual rate limiter as a reference, and with the floor: the hooks meterkit
// adds, doing nothing. Each server runs in its own process, on a core of its own while it is loaded, and every round
// in new processes; autocannon runs here. Every load of a variant sits between two loads of bare, and its ratio is
// to their mean, so that a machine whose speed drifts during a run slows both sides of a ratio alike; the figures are
// medians over the rounds. Each measured load follows a short unmeasured one of the same server: a server that sat
// idle while the others were loaded is measured in the steady state a loaded app runs in, as bare (loaded every other
// time) always is. A second bare server (`control`) is measured like any variant: the ratio an identical app reads is
// the method's resolution. A figure short of its target gets a CPU profile.
const { fork } = require('node:child_process');
const { mkdtempSync, readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { tenantRequests } = require('../http/apps');
const { runSuite } = require('../lib/child-result');
const { cpuPinning } = require('../lib/cpu-pinning');
const { startDynalite } = require('../lib/services');
const { summarizeProfile } = require('../lib/cpu-profile');
const { sizes } = require('../lib/sizes');
const { median } = require('../lib/stats');

const SERVER = join(__dirname, '..', 'http', 'server.js');
const pinning = cpuPinning();
const TARGET_RATIO = 0.95;
// Per framework: throughput vs bare at least `targetRatio` and not below the reference's; with `cpuTarget`, server
// CPU per request not above the reference's either (the figure a busy machine disturbs least).
// `meterkit@<store>`: the meterkit variant on another store. BENCH_HTTP_STORE=postgres|dynamodb puts every meterkit
// variant on that one store instead (tools/bench/http/server.js), and Express then measures that store alone.
const EXPRESS_STORES = process.env.BENCH_HTTP_STORE === undefined ? ['meterkit@postgres', 'meterkit@dynamodb'] : [];
// `floor`: the same hooks meterkit adds, doing nothing (tools/bench/http/apps.js): the least any feature of that
// shape costs in the framework, so a target below it is out of reach whatever meterkit does.
const PLAN = [
  { framework: 'express', variants: ['bare', 'control', 'meterkit', ...EXPRESS_STORES, 'reference', 'floor'], reference: 'express-rate-limit 8 (memory store)', targetRatio: 0.97, cpuTarget: true },
  { framework: 'fastify', variants: ['bare', 'control', 'meterkit', 'reference', 'floor', 'empty-plugin'], reference: '@fastify/rate-limit 11 (memory store)', targetRatio: 0.95, cpuTarget: true },
  // Nest: also what a no-op global guard and a no-op middleware cost, the alternatives to an interceptor, and what
  // meterkit costs a route that declares no metering (meterkit-undeclared). The floor is a no-op route guard (what
  // `@Metered()` adds); the reference is a no-op global interceptor.
  { framework: 'nest', variants: ['bare', 'control', 'meterkit', 'reference', 'floor', 'noop-guard', 'noop-middleware', 'meterkit-undeclared'], reference: 'a no-op global interceptor', targetRatio: 0.95, cpuTarget: false },
  { framework: 'nest-fastify', variants: ['bare', 'control', 'meterkit', 'reference', 'floor', 'noop-guard', 'noop-middleware', 'meterkit-undeclared'], reference: 'a no-op global interceptor', targetRatio: 0.95, cpuTarget: false },
];

/** The store a meterkit variant runs on. */
const storeOf = (variant) => variant.split('@')[1] ?? process.env.BENCH_HTTP_STORE ?? 'sqlite';
/** The variants that record usage (and so have a billing check): meterkit on each store. */
const isBilling = (variant) => variant === 'meterkit' || variant.startsWith('meterkit@');

function startServer(framework, variant, execArgv = []) {
  const child = fork(SERVER, [framework, variant, String(sizes.http.tenants)], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${framework}/${variant} server exited with ${code}`)));
    child.once('message', ({ port }) => {
      child.removeAllListeners('exit');
      pinning.unpin(child.pid);
      resolve({
        port,
        pid: child.pid,
        cpuMicros: () =>
          new Promise((done) => {
            child.once('message', (reply) => done(reply.cpuMicros));
            child.send('cpu');
          }),
        stop: () =>
          new Promise((done, fail) => {
            child.once('message', done);
            child.once('exit', (code) => (code === 0 ? undefined : fail(new Error(`${framework}/${variant} server exited with ${code}`))));
            child.send('stop');
          }).then(async (reply) => {
            if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
            return reply;
          }),
      });
    });
  });
}

const requests = () => tenantRequests(sizes.http.tenants);

async function loadOnce(port, seconds) {
  const result = await autocannon({ url: `http://127.0.0.1:${port}`, connections: sizes.http.connections, duration: seconds, requests: requests() });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`port ${port}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  }
  return result;
}

/**
 * One load of a server, on its own core, after `preloadSeconds` of unmeasured load; also the server's CPU time per
 * request, which other processes on the machine disturb less than throughput. `ok` and `sent` count both loads
 * (the billing check covers every request the server answered).
 */
async function load(server, seconds, preloadSeconds = sizes.http.preloadSeconds) {
  const port = server.port;
  pinning.pin(server.pid);
  try {
    const preload = preloadSeconds > 0 ? await loadOnce(port, preloadSeconds) : undefined;
    const cpuBefore = await server.cpuMicros();
    const result = await loadOnce(port, seconds);
    const cpuPerRequest = ((await server.cpuMicros()) - cpuBefore) / result.requests.sent;
    return {
      rps: result.requests.average,
      p99: result.latency.p99,
      ok: result['2xx'] + (preload?.['2xx'] ?? 0),
      sent: result.requests.sent + (preload?.requests.sent ?? 0),
      cpuPerRequest,
    };
  } finally {
    pinning.unpin(server.pid);
  }
}

async function profileMeterkit(framework) {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-bench-prof-'));
  try {
    const server = await startServer(framework, 'meterkit', ['--cpu-prof', '--cpu-prof-dir', dir]);
    // Long enough that start-up (module loading, opening the store) is a small share of the samples.
    await load(server, sizes.quick ? sizes.http.seconds : sizes.http.warmupSeconds + 2 * sizes.http.seconds, 0);
    await server.stop();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) return { error: 'no profile written' };
    return summarizeProfile(join(dir, file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One server per variant, each in a fresh process; if one fails to start, the others are stopped. */
async function startGeneration(framework, variants) {
  const servers = {};
  try {
    for (const v of variants) servers[v] = await startServer(framework, v);
  } catch (error) {
    await Promise.allSettled(Object.values(servers).map((server) => server.stop()));
    throw error;
  }
  return servers;
}

async function measureFramework({ framework, variants, reference, targetRatio, cpuTarget }) {
  const { rounds, seconds, warmupSeconds } = sizes.http;
  // 2xx answers autocannon counted, requests it sent, and the units each server process stored: requests in flight
  // when a load ends are served (and billed) after autocannon stopped counting, so each process's units lie between
  // its two counts.
  const billed = Object.fromEntries(variants.map((v) => [v, { ok: 0, sent: 0, units: 0, pass: true }]));
  // Per variant, each load and the mean of the two bare loads around it.
  const samples = Object.fromEntries(variants.map((v) => [v, []]));
  const others = variants.filter((v) => v !== 'bare');
  for (let round = 0; round < rounds; round++) {
    // Every round in fresh processes: two processes of one app differ by up to a tenth in speed for the whole of
    // their lives (every area of their profiles alike, so not in what they run), so a variant's figures are medians
    // over as many processes as rounds.
    const servers = await startGeneration(framework, variants);
    const counted = Object.fromEntries(variants.map((v) => [v, { ok: 0, sent: 0 }]));
    const count = (v, s) => {
      counted[v].ok += s.ok;
      counted[v].sent += s.sent;
      return s;
    };
    try {
      for (const v of variants) count(v, await load(servers[v], warmupSeconds, 0));
      // bare, v1, bare, v2, bare, ...: every load sits between two loads of bare. The order rotates by round.
      let before = count('bare', await load(servers.bare, seconds));
      samples.bare.push({ ...before, bare: before });
      for (let i = 0; i < others.length; i++) {
        const v = others[(i + round) % others.length];
        const s = count(v, await load(servers[v], seconds));
        const after = count('bare', await load(servers.bare, seconds));
        samples.bare.push({ ...after, bare: after });
        samples[v].push({ ...s, bare: { rps: (before.rps + after.rps) / 2, p99: (before.p99 + after.p99) / 2, cpuPerRequest: (before.cpuPerRequest + after.cpuPerRequest) / 2 } });
        before = after;
      }
    } finally {
      for (const v of variants) {
        const { units } = await servers[v].stop();
        const b = billed[v];
        b.ok += counted[v].ok;
        b.sent += counted[v].sent;
        if (units !== null) {
          b.units += units;
          b.pass &&= units >= counted[v].ok && units <= counted[v].sent;
        }
      }
    }
  }
  const ratioTo = (v) => median(samples[v].map((s) => s.rps / s.bare.rps));
  const p99Diff = (v) => median(samples[v].map((s) => s.p99 - s.bare.p99));
  const bareCpu = median(samples.bare.map((s) => s.cpuPerRequest));
  // CPU per request: bare's median plus the median difference to the bare loads around each load.
  const row = (v) => ({
    rps: median(samples[v].map((s) => s.rps)),
    p99Ms: median(samples[v].map((s) => s.p99)),
    cpuMicrosPerRequest: v === 'bare' ? bareCpu : bareCpu + median(samples[v].map((s) => s.cpuPerRequest - s.bare.cpuPerRequest)),
  });
  const billing = (v) => ({ answered: billed[v].ok, sent: billed[v].sent, unitsStored: billed[v].units, pass: billed[v].pass, processes: rounds });
  const vsBare = (v) => ({ ...row(v), ratio: ratioTo(v), p99DiffMs: p99Diff(v) });
  const result = {
    framework,
    rounds,
    seconds,
    design: `fresh processes every round; each load between two loads of bare, after ${sizes.http.preloadSeconds} s of unmeasured load of the same server`,
    pinning: pinning.describe,
    connections: sizes.http.connections,
    bare: row('bare'),
    meterkit: { ...row('meterkit'), ratio: ratioTo('meterkit'), p99DiffMs: p99Diff('meterkit') },
    reference: reference === null ? null : { name: reference, ...row('reference'), ratio: ratioTo('reference'), p99DiffMs: p99Diff('reference') },
    floor: variants.includes('floor') ? vsBare('floor') : null,
    control: variants.includes('control') ? vsBare('control') : null,
    // meterkit on each store measured (the first is the `meterkit` row above), with its billing check.
    stores: variants.filter(isBilling).map((v) => ({ store: storeOf(v), ...vsBare(v), billing: billing(v), pass: ratioTo(v) >= targetRatio })),
    alternatives: variants
      .filter((v) => !['bare', 'control', 'reference', 'floor'].includes(v) && !isBilling(v))
      .map((v) => ({ name: v, ...vsBare(v) })),
    billing: billing('meterkit'),
  };
  const refRatio = result.reference?.ratio ?? 0;
  result.targetRatio = targetRatio;
  result.meterkit.ratioPass = result.meterkit.ratio >= targetRatio && result.meterkit.ratio >= refRatio;
  result.meterkit.cpuPass = !cpuTarget || result.reference === null || result.meterkit.cpuMicrosPerRequest <= result.reference.cpuMicrosPerRequest;
  result.meterkit.meetsTarget = result.meterkit.ratioPass && result.meterkit.cpuPass;
  if (!result.meterkit.meetsTarget) result.profile = await profileMeterkit(framework);
  return result;
}

/** A dynalite here when a server runs on DynamoDB and no endpoint is given, for the servers to share (a table each). */
async function dynamoEndpoint(plans) {
  const wanted = plans.some((p) => p.variants.some((v) => isBilling(v) && storeOf(v) === 'dynamodb'));
  if (!wanted || process.env.BENCH_DYNAMODB_ENDPOINT !== undefined) return undefined;
  const dynalite = await startDynalite();
  process.env.BENCH_DYNAMODB_ENDPOINT = dynalite.endpoint;
  return dynalite;
}

runSuite(async () => {
  const frameworks = [];
  // `node tools/bench/suites/overhead.js nest-fastify ...` measures some frameworks only.
  const only = process.argv.slice(2);
  const plans = PLAN.filter((plan) => only.length === 0 || only.includes(plan.framework));
  pinning.unpin(process.pid);
  const dynamo = await dynamoEndpoint(plans);
  if (dynamo !== undefined) pinning.unpin(dynamo.pid);
  try {
    for (const plan of plans) frameworks.push(await measureFramework(plan));
  } finally {
    await dynamo?.close();
  }
  return { targetRatio: TARGET_RATIO, store: process.env.BENCH_HTTP_STORE ?? 'sqlite', frameworks };
});
