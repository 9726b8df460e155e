#!/usr/bin/env node
// Young-generation collections of one benchmark server under load: `node tools/bench/gc-trace.js <framework> <variant>[@<store>]`
// (the overhead suite's servers, tools/bench/http/server.js), or `node tools/bench/gc-trace.js node` for a plain node:http
// server answering the same JSON. The server runs with V8's --trace-gc-nvp; after a 2 s warm-up, a 3 s load (10
// connections, autocannon) is traced, and the scavenges and mark-compacts it saw are summed: how many, their pauses, how
// much was allocated between them and how much each promoted to the old generation.
const { fork } = require('node:child_process');
const http = require('node:http');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { tenantRequests } = require('./http/apps');

const WARM_UP_SECONDS = 2;
const TRACED_SECONDS = 3;
const CONNECTIONS = 10;

function servePlain() {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end('{"ok":true}');
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'stop') process.send({ units: null }, () => process.exit(0));
  });
}

/** The name=value fields of one --trace-gc-nvp line. */
function fieldsOf(line) {
  const fields = {};
  for (const pair of line.trim().split(/\s+/)) {
    const at = pair.indexOf('=');
    if (at > 0) fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return fields;
}

function summarize(lines, requests) {
  const collections = lines.map(fieldsOf).filter((f) => f.gc === 's' || f.gc === 'mc' || f.gc === 'ms');
  const scavenges = collections.filter((f) => f.gc === 's');
  const sum = (list, key) => list.reduce((total, f) => total + Number(f[key] ?? 0), 0);
  const allocated = sum(scavenges, 'allocated');
  const promoted = sum(scavenges, 'promoted');
  return {
    requests,
    scavenges: scavenges.length,
    scavengePauseMs: Number(sum(scavenges, 'pause').toFixed(1)),
    scavengePauseMaxMs: Math.max(0, ...scavenges.map((f) => Number(f.pause))),
    allocatedMBPerScavenge: scavenges.length === 0 ? 0 : Number((allocated / scavenges.length / 1048576).toFixed(1)),
    promotedShare: allocated === 0 ? 0 : Number((promoted / allocated).toFixed(2)),
    markCompacts: collections.length - scavenges.length,
    gcMicrosPerRequest: Number(((sum(collections, 'pause') * 1000) / requests).toFixed(1)),
  };
}

async function main() {
  const [framework, variant] = process.argv.slice(2);
  if (framework === undefined) throw new Error('usage: node tools/bench/gc-trace.js <framework> <variant>[@<store>] | node');
  const plain = framework === 'node';
  const script = plain ? __filename : join(__dirname, 'http', 'server.js');
  const args = plain ? ['serve-plain'] : [framework, variant ?? 'bare', '10'];
  const child = fork(script, args, { execArgv: ['--trace-gc-nvp'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const requests = tenantRequests();
  const url = `http://127.0.0.1:${port}`;
  await autocannon({ url, connections: CONNECTIONS, duration: WARM_UP_SECONDS, requests });
  const from = output.length;
  const traced = await autocannon({ url, connections: CONNECTIONS, duration: TRACED_SECONDS, requests });
  const lines = output.slice(from).split('\n');
  child.send('stop');
  await new Promise((resolve) => child.once('message', resolve));
  const label = plain ? 'node:http' : `${framework} ${variant ?? 'bare'}`;
  console.log(JSON.stringify({ server: label, ...summarize(lines, traced.requests.sent) }));
}

if (process.argv[2] === 'serve-plain') servePlain();
else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
