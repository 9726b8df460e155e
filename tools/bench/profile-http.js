#!/usr/bin/env node
// Side-by-side CPU profiles of one framework's benchmark servers: `node tools/bench/profile-http.js express
// [chunks] [requests per chunk]`. Bare, meterkit and the reference (tools/bench/http/apps.js) each run in their own
// process, profiled from after a warm-up; loads alternate between them chunk by chunk so that a busy machine slows
// each alike. Prints, per variant, CPU per request, profile time per request, meterkit's own frames, and the frames
// whose self time per request grew most over bare. PROFILE_VARIANTS=bare,meterkit,meterkit@postgres,floor chooses the
// variants (tools/bench/http/apps.js; `@<store>` as in the overhead suite); PROFILE_DIR=<dir> keeps the .cpuprofile files there.
const { fork } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { tenantRequests } = require('./http/apps');

const SERVER = join(__dirname, 'http', 'server.js');
const HOOK = join(__dirname, 'http', 'profile-hook.js');
const VARIANTS = (process.env.PROFILE_VARIANTS ?? 'bare,meterkit,reference').split(',');
const [framework = 'fastify', chunksArg = '6', chunkArg = '15000'] = process.argv.slice(2);

function ask(child, message, done) {
  return new Promise((resolve) => {
    const on = (reply) => {
      if (!done(reply)) return;
      child.off('message', on);
      resolve(reply);
    };
    child.on('message', on);
    child.send(message);
  });
}

function frameName({ functionName, url, lineNumber }) {
  const inModules = url.lastIndexOf('node_modules/');
  const inPackages = url.indexOf('/packages/');
  const short = inModules >= 0 ? url.slice(inModules + 13) : inPackages >= 0 ? url.slice(inPackages + 1) : url;
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
}

/** Self time per frame (µs per request) of a .cpuprofile, idle excluded. */
function selfTimes(file, requests) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const { callFrame } = nodes.get(profile.samples[i]);
    if (callFrame.functionName === '(idle)') continue;
    const name = frameName(callFrame);
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / requests);
  }
  return self;
}

async function main() {
  const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'meterkit-profile-'));
  const requests = tenantRequests();
  const servers = {};
  try {
    for (const variant of VARIANTS) {
      const child = fork(SERVER, [framework, variant, '10'], { execArgv: ['-r', HOOK], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const { port } = await new Promise((resolve) => child.once('message', resolve));
      servers[variant] = { child, port, sent: 0, cpu: 0 };
      await autocannon({ url: `http://127.0.0.1:${port}`, connections: 10, amount: 10_000, requests });
      await ask(child, 'prof-start', (m) => m.profiling === true);
    }
    for (let chunk = 0; chunk < Number(chunksArg); chunk++) {
      for (const variant of VARIANTS) {
        const s = servers[variant];
        const before = (await ask(s.child, 'cpu', (m) => m.cpuMicros !== undefined)).cpuMicros;
        const result = await autocannon({ url: `http://127.0.0.1:${s.port}`, connections: 10, amount: Number(chunkArg), requests });
        s.cpu += (await ask(s.child, 'cpu', (m) => m.cpuMicros !== undefined)).cpuMicros - before;
        s.sent += result.requests.sent;
      }
    }
    const self = {};
    for (const variant of VARIANTS) {
      const s = servers[variant];
      const file = join(dir, `${variant}.cpuprofile`);
      await ask(s.child, { profStop: file }, (m) => m.profiled !== undefined);
      await ask(s.child, 'stop', (m) => 'units' in m);
      self[variant] = selfTimes(file, s.sent);
    }
    const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
    const round = (x) => Math.round(x * 100) / 100;
    const report = {};
    for (const variant of VARIANTS) {
      const s = servers[variant];
      const grew = [...self[variant]].map(([f, t]) => [f, t - (self.bare.get(f) ?? 0)]).sort((a, b) => b[1] - a[1]);
      report[variant] = {
        requests: s.sent,
        cpuMicrosPerRequest: round(s.cpu / s.sent),
        profileMicrosPerRequest: round(total(self[variant])),
        meterkitSelfMicrosPerRequest: round([...self[variant]].filter(([f]) => f.includes('packages/')).reduce((a, [, t]) => a + t, 0)),
        grewOverBare: variant === 'bare' ? [] : grew.slice(0, 15).map(([frame, t]) => ({ frame, micros: round(t) })),
      };
    }
    console.log(JSON.stringify({ framework, chunks: Number(chunksArg), requestsPerChunk: Number(chunkArg), variants: report }, null, 2));
  } finally {
    if (process.env.PROFILE_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
