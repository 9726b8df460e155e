#!/usr/bin/env node
// Where a benchmark server's CPU goes, sampled by Linux `perf` (the software cpu-clock event, so it works in VMs
// without hardware counters): `node tools/bench/perf-http.js fastify [variants] [rounds] [seconds]`, variants as in
// tools/bench/http/apps.js (default bare,control,meterkit; `@<store>` as in the overhead suite). Each round loads each
// server in turn on its own core, after a second of unmeasured load, while perf samples it at 4999 Hz (JIT frames
// named through --perf-basic-prof-only-functions). Prints, per variant, perf's CPU µs per request by area (kernel,
// node and V8 native code, V8 builtins, JavaScript by origin) and the symbols whose µs per request grew most over the
// first variant. Unlike `node --cpu-prof`, sampling from outside the process does not slow the code it samples:
// with the V8 profiler on, one process.nextTick per response read as 8 µs more per request (time shown in writev
// and nextTick), without it as nothing measurable. Needs `perf` (Debian: linux-perf) and kernel.perf_event_paranoid
// allowing it (root, or ≤ 1).
const { execFileSync, fork, spawn } = require('node:child_process');
const { mkdtempSync, rmSync, existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { commandAvailable } = require('./lib/command-available');
const { tenantRequests } = require('./http/apps');
const { cpuPinning } = require('./lib/cpu-pinning');
const { startDynalite } = require('./lib/services');

const SERVER = join(__dirname, 'http', 'server.js');
const FREQUENCY = 4999;
const [framework = 'fastify', variantsArg = 'bare,control,meterkit', roundsArg = '3', secondsArg = '5'] = process.argv.slice(2);
const VARIANTS = variantsArg.split(',');
const pinning = cpuPinning();

const load = (port, seconds) => autocannon({ url: `http://127.0.0.1:${port}`, connections: 10, duration: seconds, requests: tenantRequests() });

async function startServer(variant) {
  const child = fork(SERVER, [framework, variant, '10'], { execArgv: ['--perf-basic-prof-only-functions'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${framework}/${variant} server exited with ${code}`)));
  });
  child.removeAllListeners('exit');
  pinning.unpin(child.pid);
  return { variant, child, port, samples: new Map(), requests: 0 };
}

/** One sampled load: perf attached to the server while autocannon loads it. */
async function sampledLoad(server, seconds, file) {
  pinning.pin(server.child.pid);
  try {
    await load(server.port, 1);
    const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(FREQUENCY), '-p', String(server.child.pid), '-o', file], { stdio: 'ignore' });
    // perf attaches asynchronously; a short wait keeps the first requests inside the sampled window.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await load(server.port, seconds);
    perf.kill('SIGINT');
    await new Promise((resolve) => perf.once('exit', resolve));
    server.requests += result.requests.sent;
  } finally {
    pinning.unpin(server.child.pid);
  }
  const report = execFileSync('perf', ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '--stdio', '-F', 'sample,dso,sym'], {
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  for (const line of report.split('\n')) {
    const match = /^\s*(\d+)\s+(\S.*?)\s+\[[.k]\]\s+(.*)$/.exec(line);
    if (match === null) continue;
    const dso = match[2].startsWith('[JIT]') ? '[JIT]' : match[2].trim();
    const key = `${dso}\t${match[3].trim()}`;
    server.samples.set(key, (server.samples.get(key) ?? 0) + Number(match[1]));
  }
  rmSync(file, { force: true });
}

function area(key) {
  const [dso, symbol] = key.split('\t');
  if (dso === '[kernel.kallsyms]') return 'kernel';
  if (dso === '[JIT]') {
    if (symbol.includes('/packages/')) return 'JavaScript: meterkit';
    if (symbol.includes('node_modules/')) return 'JavaScript: framework and libraries';
    if (symbol.includes(' node:')) return 'JavaScript: node';
    if (symbol.startsWith('JS:')) return 'JavaScript: other';
  }
  if (symbol.startsWith('Builtins_')) return 'V8 builtins';
  // What inline caches fall back to: property stores that change an object's hidden class, IC state updates.
  if (/^v8::internal::(Runtime_|JSObject::|Map::|TransitionsAccessor|LookupIterator|FeedbackNexus|\(anonymous namespace\)::UpdateDescriptor|Object::SetProperty)/.test(symbol)) {
    return 'V8 runtime (inline cache misses)';
  }
  if (/^(v8::|node::|uv_|Builtins|cppgc|heap::)/.test(symbol) || dso === 'node') return 'node and V8 native';
  return 'libc and other';
}

const micros = (samples, requests) => (samples * 1e6) / FREQUENCY / requests;

function summary(server) {
  let total = 0;
  const areas = new Map();
  for (const [key, n] of server.samples) {
    total += n;
    areas.set(area(key), (areas.get(area(key)) ?? 0) + n);
  }
  return { total: micros(total, server.requests), areas: new Map([...areas].map(([k, n]) => [k, micros(n, server.requests)])) };
}

function shortSymbol(key) {
  const symbol = key.split('\t')[1];
  const inModules = symbol.lastIndexOf('node_modules/');
  const inPackages = symbol.indexOf('/packages/');
  if (inModules >= 0) return symbol.slice(0, symbol.indexOf(' ') + 1) + symbol.slice(inModules + 13);
  if (inPackages >= 0) return symbol.slice(0, symbol.indexOf(' ') + 1) + symbol.slice(inPackages + 1);
  return symbol;
}

async function main() {
  if (!commandAvailable('perf')) {
    console.error('perf-http: `perf` is not installed (Debian: apt-get install linux-perf).');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-perf-'));
  const needsDynamo = VARIANTS.some((v) => v.endsWith('@dynamodb')) && process.env.BENCH_DYNAMODB_ENDPOINT === undefined;
  const dynalite = needsDynamo ? await startDynalite() : undefined;
  if (dynalite !== undefined) process.env.BENCH_DYNAMODB_ENDPOINT = dynalite.endpoint;
  pinning.unpin(process.pid);
  const servers = [];
  try {
    for (const variant of VARIANTS) servers.push(await startServer(variant));
    for (let round = 0; round < Number(roundsArg); round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(i + round) % servers.length];
        await sampledLoad(server, Number(secondsArg), join(dir, `${server.variant}-${round}.data`));
      }
    }
  } finally {
    for (const server of servers) {
      server.child.send('stop');
      await new Promise((resolve) => server.child.once('exit', resolve));
      const map = join(tmpdir(), `perf-${server.child.pid}.map`);
      if (existsSync(map)) rmSync(map, { force: true });
    }
    await dynalite?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = servers[0];
  const baseSummary = summary(base);
  console.log(`${framework}: perf cpu-clock samples at ${FREQUENCY} Hz, ${roundsArg} rounds of ${secondsArg} s per variant; µs of CPU per request`);
  for (const server of servers) {
    const s = summary(server);
    const areas = [...s.areas].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`);
    console.log(`\n${server.variant}: ${s.total.toFixed(2)} µs per request (${(s.total - baseSummary.total >= 0 ? '+' : '') + (s.total - baseSummary.total).toFixed(2)} over ${base.variant}), ${server.requests} requests sampled`);
    console.log(`  by area: ${areas.join(', ')}`);
    if (server === base) continue;
    const keys = new Set([...server.samples.keys(), ...base.samples.keys()]);
    const grew = [...keys]
      .map((k) => ({ k, d: micros(server.samples.get(k) ?? 0, server.requests) - micros(base.samples.get(k) ?? 0, base.requests) }))
      .sort((a, b) => b.d - a.d)
      .slice(0, 12);
    console.log(`  grew most over ${base.variant}:`);
    for (const { k, d } of grew) console.log(`    +${d.toFixed(3)}  ${shortSymbol(k)}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
