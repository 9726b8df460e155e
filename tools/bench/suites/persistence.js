#!/usr/bin/env node
// Persistence throughput: increments per second written with store.addUsage(), in batches shaped as the persister
// sends them (every delta aggregated since the last persist, one atomic call), into SQLite and PostgreSQL, with
// few (100) and many distinct keys. The first batch creates the records; the following ones add to them.
// Event-loop delay (perf_hooks.monitorEventLoopDelay, p99 and max) while the engine persists N aggregates and while
// the store claims N due records, per store, each with PASS/FAIL against 20 ms; the claim's cost per record at
// two sizes. Durability: HTTP requests each committing one unit (a server child per variant, autocannon here),
// `sync` against `interval` on SQLite and PostgreSQL, alternating within each round: throughput ratio, added p99;
// and the durability createMetering() defaults to, which issue #24's rule checks against the SQLite figures.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { execFileSync, fork } = require('node:child_process');
const http = require('node:http');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const autocannon = require('autocannon');
const { MemoryStore, SqliteStore, createMetering, customerKey, silentLogger } = require('@meterkit/core');
const { PostgresStore } = require('@meterkit/store-postgres');
const { Pool } = require('pg');
const { runSuite } = require('../lib/child-result');
const { PG_URL, postgresAnswers, startDynalite } = require('../lib/services');
const { customers, licenseCustomer, PRODUCT, DIMENSIONS } = require('../lib/fixtures');
const { sizes } = require('../lib/sizes');
const { median, timeIt } = require('../lib/stats');

const DIMS_PER_CUSTOMER = 5;

/** One delta per (customer, dimension) of the current hour: `keys` distinct records. */
function batchOf(keys) {
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const list = customers(Math.ceil(keys / DIMS_PER_CUSTOMER));
  const deltas = [];
  for (let i = 0; i < keys; i++) {
    const customer = list[Math.floor(i / DIMS_PER_CUSTOMER)];
    deltas.push({ customer, customerKey: customerKey(customer), productCode: PRODUCT, dimension: DIMENSIONS[i % DIMS_PER_CUSTOMER], hour, tagsKey: '', quantity: 1 });
  }
  return deltas;
}

async function measure(store, keys, batches) {
  await store.open();
  const deltas = batchOf(keys);
  const create = await timeIt(() => store.addUsage(deltas));
  const adds = [];
  for (let i = 1; i < batches; i++) adds.push(await timeIt(() => store.addUsage(deltas)));
  const records = await store.listRecords({ limit: 1 });
  if (records.length !== 1 || records[0].quantity !== batches) throw new Error(`${store.kind}: expected quantity ${batches}, found ${records[0]?.quantity}`);
  return { keys, batches, createPerSecond: keys / create, addPerSecond: keys / median(adds), addBatchMs: median(adds) * 1000 };
}

async function sqlite(keys, batches) {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-bench-'));
  const store = new SqliteStore({ path: join(dir, 'meterkit.db') });
  try {
    return await measure(store, keys, batches);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(keys, batches) {
  const pool = new Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  const schema = `mk_bench_${randomBytes(5).toString('hex')}`;
  const store = new PostgresStore({ pool, schema });
  try {
    return await measure(store, keys, batches);
  } finally {
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

const QUICK = process.env.BENCH_QUICK === '1';
/** The event-loop budget of background work. */
const STALL_LIMIT_MS = 20;
const EVENT_LOOP = {
  aggregates: QUICK ? 10_000 : 100_000,
  // Every DynamoDB write is an HTTP call to the local dynalite (itself a JavaScript process on the same machine): 100,000
  // aggregates would take most of an hour there. The stall is per step, which the smaller size shows as well.
  dynamodbAggregates: QUICK ? 1_000 : 10_000,
  claimSizes: QUICK ? [2_000, 10_000] : [10_000, 100_000],
  claimLimit: 500,
};
/** The dynalite the DynamoDB store of the event-loop part talks to, started by the suite when it measures that store. */
let dynamodbEndpoint;
const DURABILITY = { rounds: QUICK ? 2 : 3, seconds: QUICK ? 2 : 5, connections: 50, customers: 100 };
const HOUR = Date.UTC(2026, 6, 15, 10);

/** A store of each kind, opened; `dispose` closes it and removes what it left. */
async function openStore(kind) {
  if (kind === 'memory') {
    const store = new MemoryStore();
    return { store, dispose: () => store.close() };
  }
  if (kind === 'dynamodb') {
    const { DynamoDbStore } = require('@meterkit/store-dynamodb');
    const store = new DynamoDbStore({
      tableName: `meterkit-bench-${randomBytes(5).toString('hex')}`,
      region: 'us-east-1',
      endpoint: dynamodbEndpoint,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    await store.createTable();
    return { store, dispose: () => store.close() };
  }
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'meterkit-bench-'));
    const store = new SqliteStore({ path: join(dir, 'meterkit.db') });
    return { store, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const pool = new Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  const schema = `mk_bench_${randomBytes(5).toString('hex')}`;
  const store = new PostgresStore({ pool, schema });
  return {
    store,
    dispose: async () => {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

/** Lets the kernel write back what earlier runs left dirty (`sync`), so that it does not do so during a measurement. */
function settleDisk() {
  try {
    execFileSync('sync');
  } catch {
    // Not on this system: the measurement runs as it is.
  }
}

/** Runs fn with the event-loop delay monitored; its p99 and max in ms, and how long fn took. */
async function withLoopDelay(fn) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // The monitor's first tick only starts its clock, and reset() starts it again: a stall before the next tick goes
  // unrecorded (a claim whose synchronous work begins at once read as 1 ms). Let it tick first; the few samples of
  // this wait stay in the histogram.
  await new Promise((resolve) => setTimeout(resolve, 10));
  // The process's own CPU time within each turn of a 1 ms timer: on a busy machine a turn's wall time includes
  // waiting for a core, its CPU time does not (it does include garbage-collection threads, not synchronous I/O).
  let turnCpuMaxMs = 0;
  let lastCpu = process.cpuUsage();
  const turns = setInterval(() => {
    const used = process.cpuUsage(lastCpu);
    turnCpuMaxMs = Math.max(turnCpuMaxMs, (used.user + used.system) / 1000);
    lastCpu = process.cpuUsage();
  }, 1);
  const start = process.hrtime.bigint();
  const value = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // A stall is recorded when the monitor's timer finally fires, after it: let it fire before reading.
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(turns);
  histogram.disable();
  const p99Ms = histogram.percentile(99) / 1e6;
  const maxMs = histogram.max / 1e6;
  return { value, seconds, p99Ms, maxMs, turnCpuMaxMs, pass: p99Ms <= STALL_LIMIT_MS };
}

/** Records `count` distinct (customer, dimension) aggregates of one hour through the engine. */
function recordAggregates(metering, count) {
  const list = customers(Math.ceil(count / DIMS_PER_CUSTOMER));
  for (let i = 0; i < count; i++) {
    const meter = metering.meter(list[Math.floor(i / DIMS_PER_CUSTOMER)]);
    meter.record(DIMENSIONS[i % DIMS_PER_CUSTOMER]);
    void meter.commit();
  }
}

/** Claims every due record, `claimLimit` at a time; the first claim freezes them all. */
async function claimAll(store, now) {
  const request = { now, dueBefore: now, owner: 'bench', leaseMs: 600_000, limit: EVENT_LOOP.claimLimit };
  const first = await withLoopDelay(() => store.claim(request));
  let claimed = first.value.length;
  const rest = await withLoopDelay(async () => {
    for (;;) {
      // The flusher sends each claim's records before the next claim, and a send waits for the network: without a
      // yield here, claims of a store that answers without I/O would chain as one stall the engine never makes.
      await new Promise((resolve) => setImmediate(resolve));
      const batch = await store.claim(request);
      if (batch.length === 0) return;
      claimed += batch.length;
    }
  });
  return { claimed, first, rest };
}

/** Persist N aggregates through the engine, then claim N due records: event-loop delay of each, per store. */
async function eventLoop(kind, records) {
  const { store, dispose } = await openStore(kind);
  let now = HOUR + 5 * 60_000;
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store,
    clock: () => now,
    logger: silentLogger,
    autoStart: false,
    aws: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
  });
  try {
    await metering.persist();
    recordAggregates(metering, records);
    const persist = await withLoopDelay(() => metering.persist());
    now = HOUR + 2 * 3_600_000;
    const claim = await claimAll(store, now);
    if (claim.claimed !== records) throw new Error(`${kind}: claimed ${claim.claimed} of ${records} records`);
    const claimSeconds = claim.first.seconds + claim.rest.seconds;
    return {
      store: kind,
      records,
      persist: { seconds: persist.seconds, p99Ms: persist.p99Ms, maxMs: persist.maxMs, turnCpuMaxMs: persist.turnCpuMaxMs, pass: persist.pass },
      firstClaim: { seconds: claim.first.seconds, p99Ms: claim.first.p99Ms, maxMs: claim.first.maxMs, turnCpuMaxMs: claim.first.turnCpuMaxMs, pass: claim.first.pass },
      claimAll: {
        seconds: claimSeconds,
        microsPerRecord: (claimSeconds * 1e6) / records,
        p99Ms: Math.max(claim.first.p99Ms, claim.rest.p99Ms),
        maxMs: Math.max(claim.first.maxMs, claim.rest.maxMs),
        turnCpuMaxMs: Math.max(claim.first.turnCpuMaxMs, claim.rest.turnCpuMaxMs),
        pass: claim.first.pass && claim.rest.pass,
      },
    };
  } finally {
    await metering.close().catch(() => undefined);
    await dispose();
  }
}

/** The event-loop delay of this process doing nothing but the monitor's timers: the baseline of the stall figures. */
async function idleLoop() {
  const idle = await withLoopDelay(() => new Promise((resolve) => setTimeout(resolve, QUICK ? 200 : 1000)));
  return { seconds: idle.seconds, p99Ms: idle.p99Ms, maxMs: idle.maxMs };
}

/**
 * The durability createMetering() uses when none is given, as the engine behaves: with `sync` a commit resolves once
 * its usage is in the store, with `interval` it stays in memory until the next persist (none here: autoStart off).
 */
async function defaultDurability() {
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store: new MemoryStore(),
    logger: silentLogger,
    autoStart: false,
    aws: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
  });
  try {
    const meter = metering.meter(licenseCustomer(0));
    meter.record(DIMENSIONS[0]);
    await meter.commit();
    return (await metering.status()).inMemory === 0 ? 'sync' : 'interval';
  } finally {
    await metering.close().catch(() => undefined);
  }
}

// ---- durability: a server child per variant ----

/** The server child: `node persistence.js serve <sqlite|postgres> <interval|sync>`; one unit committed per request. */
async function serve(kind, durability) {
  const { store, dispose } = await openStore(kind);
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store,
    durability: durability === 'interval' ? 'interval' : 'sync',
    // `sync-window`: the group waits a 2 ms window (the previous default) instead of the end of the event-loop turn.
    ...(durability === 'sync-window' ? { syncGatherMs: 2 } : {}),
    logger: silentLogger,
    flushIntervalMs: 3_600_000,
    aws: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
  });
  const buyers = Array.from({ length: DURABILITY.customers }, (_, i) => licenseCustomer(i));
  let answered = 0;
  const server = http.createServer((req, res) => {
    const meter = metering.meter(buyers[Number(req.url.slice(1)) % buyers.length]);
    meter.record(DIMENSIONS[0]);
    meter.commit().then(() => {
      answered++;
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', async (message) => {
    if (message !== 'stop') return;
    server.close();
    await metering.persist();
    const units = (await store.listRecords()).reduce((sum, r) => sum + r.quantity, 0);
    await metering.close().catch(() => undefined);
    await dispose();
    process.send({ units, answered }, () => process.exit(0));
  });
  process.send({ port: server.address().port });
}

function startServer(kind, durability) {
  const child = fork(__filename, ['serve', kind, durability], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind}/${durability} server exited with ${code}`)));
    child.once('message', ({ port }) => {
      child.removeAllListeners('exit');
      resolve({
        port,
        stop: () => new Promise((done) => {
          child.once('message', done);
          child.send('stop');
        }),
      });
    });
  });
}

async function loadOnce(kind, durability) {
  const server = await startServer(kind, durability);
  const requests = Array.from({ length: DURABILITY.customers }, (_, i) => ({ method: 'GET', path: `/${i}` }));
  const result = await autocannon({ url: `http://127.0.0.1:${server.port}`, connections: DURABILITY.connections, duration: DURABILITY.seconds, requests });
  const { units, answered } = await server.stop();
  // Every answered request's unit is stored, once (sync: before its answer; interval: by close).
  if (units !== answered) throw new Error(`${kind}/${durability}: ${answered} requests answered, ${units} units stored`);
  return { requestsPerSecond: result.requests.average, p99Ms: result.latency.p99, p50Ms: result.latency.p50, answered };
}

async function durabilityOf(kind) {
  const rounds = [];
  for (let round = 0; round < DURABILITY.rounds; round++) {
    const order = round % 2 === 0 ? ['interval', 'sync', 'sync-window'] : ['sync-window', 'sync', 'interval'];
    const measured = {};
    for (const durability of order) measured[durability] = await loadOnce(kind, durability);
    rounds.push(measured);
  }
  return {
    store: kind,
    connections: DURABILITY.connections,
    seconds: DURABILITY.seconds,
    rounds: rounds.length,
    interval: { requestsPerSecond: median(rounds.map((r) => r.interval.requestsPerSecond)), p99Ms: median(rounds.map((r) => r.interval.p99Ms)) },
    sync: { requestsPerSecond: median(rounds.map((r) => r.sync.requestsPerSecond)), p99Ms: median(rounds.map((r) => r.sync.p99Ms)) },
    syncWindow: {
      requestsPerSecond: median(rounds.map((r) => r['sync-window'].requestsPerSecond)),
      p99Ms: median(rounds.map((r) => r['sync-window'].p99Ms)),
      throughputRatio: median(rounds.map((r) => r['sync-window'].requestsPerSecond / r.interval.requestsPerSecond)),
    },
    throughputRatio: median(rounds.map((r) => r.sync.requestsPerSecond / r.interval.requestsPerSecond)),
    addedP99Ms: median(rounds.map((r) => r.sync.p99Ms - r.interval.p99Ms)),
  };
}

if (process.argv[2] === 'serve') {
  serve(process.argv[3], process.argv[4]).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  runSuite(async () => {
    const { fewKeys, fewBatches, manyKeys, manyBatches } = sizes.persistence;
    const skipped = await postgresAnswers();
    const available = skipped === undefined ? ['memory', 'sqlite', 'postgres', 'dynamodb'] : ['memory', 'sqlite', 'dynamodb'];
    // BENCH_PERSISTENCE_STORES=memory,sqlite measures those stores only (a rerun of one row); default: every store.
    const wanted = process.env.BENCH_PERSISTENCE_STORES?.split(',');
    const stores = wanted === undefined ? available : available.filter((kind) => wanted.includes(kind));
    /** The stores with a throughput, claim-growth and durability part: the SQL ones. */
    const sqlStores = stores.filter((kind) => kind === 'sqlite' || kind === 'postgres');
    const only = process.env.BENCH_PERSISTENCE_PARTS?.split(',') ?? ['throughput', 'eventLoop', 'durability'];
    const result = { sqlite: [], postgres: [], postgresSkipped: skipped ?? null, stallLimitMs: STALL_LIMIT_MS, eventLoop: [], claimGrowth: [], durability: [] };
    // Durability first: the other parts leave the machine busy for a while after them (hundreds of MB for the kernel
    // to write back, PostgreSQL vacuuming 100,000-row tables). Run after them, `interval` once measured 27,000 requests/s
    // against 36,000 to 39,000 alone, and the `sync` ratio 0.94 against 0.58 to 0.68 in three runs alone.
    if (only.includes('durability')) {
      settleDisk();
      for (const kind of sqlStores) result.durability.push(await durabilityOf(kind));
      result.defaultDurability = await defaultDurability();
    }
    if (only.includes('throughput')) {
      for (const [keys, batches] of [[fewKeys, fewBatches], [manyKeys, manyBatches]]) {
        if (sqlStores.includes('sqlite')) result.sqlite.push(await sqlite(keys, batches));
        if (sqlStores.includes('postgres')) result.postgres.push(await postgres(keys, batches));
      }
    }
    if (only.includes('eventLoop')) {
      result.idleLoop = await idleLoop();
      const dynalite = stores.includes('dynamodb') ? await startDynalite() : undefined;
      dynamodbEndpoint = dynalite?.endpoint;
      try {
        for (const kind of stores) result.eventLoop.push(await eventLoop(kind, kind === 'dynamodb' ? EVENT_LOOP.dynamodbAggregates : EVENT_LOOP.aggregates));
      } finally {
        await dynalite?.close();
      }
      // Claim cost per record at two sizes: flat when the claim walks an index instead of sorting all pending rows.
      for (const kind of sqlStores) {
        const figures = [];
        for (const records of EVENT_LOOP.claimSizes) figures.push(await eventLoop(kind, records));
        result.claimGrowth.push({
          store: kind,
          sizes: figures.map((f) => ({ records: f.records, microsPerRecord: f.claimAll.microsPerRecord, firstClaimP99Ms: f.firstClaim.p99Ms })),
          growth: figures.at(-1).claimAll.microsPerRecord / figures[0].claimAll.microsPerRecord,
        });
      }
    }
    for (const e of result.eventLoop) {
      console.error(`event loop ${e.store} ${e.records}: persist p99 ${e.persist.p99Ms.toFixed(1)} ms (max ${e.persist.maxMs.toFixed(1)}, CPU in a turn ≤ ${e.persist.turnCpuMaxMs.toFixed(1)}) ${e.persist.pass ? 'PASS' : 'FAIL'}; first claim p99 ${e.firstClaim.p99Ms.toFixed(1)} ms (max ${e.firstClaim.maxMs.toFixed(1)}, CPU in a turn ≤ ${e.firstClaim.turnCpuMaxMs.toFixed(1)}) ${e.firstClaim.pass ? 'PASS' : 'FAIL'}; all claims p99 ${e.claimAll.p99Ms.toFixed(1)} ms (CPU in a turn ≤ ${e.claimAll.turnCpuMaxMs.toFixed(1)}) ${e.claimAll.pass ? 'PASS' : 'FAIL'}, ${e.claimAll.microsPerRecord.toFixed(1)} µs/record`);
    }
    for (const g of result.claimGrowth) console.error(`claim growth ${g.store}: ${g.sizes.map((s) => `${s.records}: ${s.microsPerRecord.toFixed(1)} µs/record`).join(', ')} (x${g.growth.toFixed(2)})`);
    for (const d of result.durability) console.error(`durability ${d.store}: interval ${Math.round(d.interval.requestsPerSecond)} req/s p99 ${d.interval.p99Ms} ms; sync ${Math.round(d.sync.requestsPerSecond)} req/s p99 ${d.sync.p99Ms} ms; ratio ${d.throughputRatio.toFixed(2)}, added p99 ${d.addedP99Ms} ms; sync with a 2 ms window ${Math.round(d.syncWindow.requestsPerSecond)} req/s p99 ${d.syncWindow.p99Ms} ms, ratio ${d.syncWindow.throughputRatio.toFixed(2)}`);
    return result;
  });
}
