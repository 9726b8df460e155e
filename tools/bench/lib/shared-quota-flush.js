// The flush suite's shared-quota part: several engines, each a Metering instance in a process of its own, on one
// PostgreSQL or one DynamoDB store (a dynalite in its own process), each with its own usage of a closed hour, flush at
// the same time against the emulator at the default rate. The store's send-slot ring is the only thing they share:
// the emulator's busiest sliding second over all their calls must stay within AWS's 10 calls, and every unit must be
// billed once. Run as a script, this file is one engine, driven over IPC; required, it runs the part.
const { randomBytes } = require('node:crypto');
const { PRODUCT, DIMENSIONS, recordPairs } = require('./fixtures');
const { forkIpcChild, serveIpcSteps } = require('./ipc-child');
const { PG_URL, postgresAnswers, startDynalite } = require('./services');

const QUOTA = 10;
const BATCH = 25;
const DIMS_PER_CUSTOMER = 10;
const ENGINES = 3;
/**
 * Pairs per engine: the three together make 48 calls (about 5 s at the default budget), 24 for a smoke run. On
 * DynamoDB a dynalite's claims and settles, not the quota, set the pace: more pairs would only lengthen the run.
 */
const PAIRS_PER_ENGINE = { full: 400, quick: 200 };

/** The most calls in any closed one-second interval (a sliding second, as a quota counts them). */
function mostInAnyClosedSecond(sorted) {
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] > 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/**
 * The rate the engines kept together: QUOTA calls per the mean time from a call to the QUOTA-th call after it. A ring
 * of QUOTA slots lets the next call go a window after the QUOTA-th before it, so this is QUOTA per window whether the
 * calls leave in bursts or spread out, and it leaves out the first burst a fresh quota lets through at once.
 */
function ringRate(sorted) {
  if (sorted.length <= QUOTA) return undefined;
  let total = 0;
  for (let i = QUOTA; i < sorted.length; i++) total += sorted[i] - sorted[i - QUOTA];
  return QUOTA / (total / (sorted.length - QUOTA) / 1000);
}

/** One engine process; `ask(op, args)` resolves with its answer. */
async function startEngine() {
  const { ask, exited } = forkIpcChild(__filename, 'engine');
  return {
    ask,
    close: async () => {
      await ask('close').catch(() => undefined);
      await exited;
    },
  };
}

async function dropSchema(schema) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
  await pool.end();
}

/** The engines on one store, each recording its own buyers' pairs, then flushing together. */
async function runOnStore(emu, buyers, { store, requestsPerPair, pairsPerEngine, hour }) {
  const engines = [];
  const tag = randomBytes(5).toString('hex');
  const dynalite = store === 'dynamodb' ? await startDynalite() : undefined;
  const storeSpec =
    store === 'postgres'
      ? { kind: 'postgres', connectionString: PG_URL, schema: `mk_bench_shared_${tag}` }
      : { kind: 'dynamodb', endpoint: dynalite.endpoint, tableName: `meterkit-bench-shared-${tag}` };
  const offset = () => emu.now() - Date.now();
  try {
    await emu.reset();
    await emu.setLatency(0);
    await emu.setClock(hour + 5 * 60_000);
    const buyersPerEngine = Math.ceil(pairsPerEngine / DIMS_PER_CUSTOMER);
    // One after the other: the first creates the schema or the table the others find, and a dynalite is slow
    // enough that three persists at once could outlast a store timeout; what is measured is the flush below.
    for (let e = 0; e < ENGINES; e++) {
      const engine = await startEngine();
      engines.push(engine);
      await engine.ask('open', { store: { ...storeSpec, create: e === 0 }, endpoint: emu.endpoint, offset: offset() });
      const own = buyers.slice(e * buyersPerEngine, (e + 1) * buyersPerEngine);
      await engine.ask('record', { buyers: own, pairs: pairsPerEngine, requestsPerPair, offset: offset() });
    }
    await emu.setClock(hour + 71 * 60_000); // the hour closed and its 10-minute lock passed
    const at = offset();
    const started = process.hrtime.bigint();
    const reports = await Promise.all(engines.map((engine) => engine.ask('flush', { offset: at })));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { times, billedUnits } = await emu.batchCalls();
    const sorted = [...times].sort((a, b) => a - b);
    const pairs = ENGINES * pairsPerEngine;
    const sent = reports.reduce((sum, r) => sum + r.sent, 0);
    const duplicates = reports.reduce((sum, r) => sum + r.duplicate, 0);
    const busiestSecond = mostInAnyClosedSecond(sorted);
    const billedOnce = sent === pairs && duplicates === 0 && billedUnits === pairs * requestsPerPair;
    return {
      store,
      engines: ENGINES,
      pairsPerEngine,
      pairs,
      requestsPerPair,
      calls: sorted.length,
      expectedCalls: Math.ceil(pairs / BATCH),
      callsPerEngine: reports.map((r) => r.calls),
      sent,
      duplicates,
      billedUnits,
      expectedUnits: pairs * requestsPerPair,
      billedOnce,
      busiestSecond,
      withinQuota: busiestSecond <= QUOTA,
      seconds,
      callsPerSecond: ringRate(sorted),
      callsOverFlush: sorted.length / seconds,
      pass: billedOnce && busiestSecond <= QUOTA,
    };
  } finally {
    for (const engine of engines) await engine.close();
    await dynalite?.close();
    if (store === 'postgres') await dropSchema(storeSpec.schema);
  }
}

/**
 * The part: the figures per store, PostgreSQL skipped (with why) when no server answers. `buyers` are license buyers
 * of PRODUCT in the emulator, at least `sharedQuotaBuyers(quick)` of them.
 */
async function sharedQuotaFlush(emu, buyers, { quick, requestsPerPair, hour }) {
  const pairsPerEngine = quick ? PAIRS_PER_ENGINE.quick : PAIRS_PER_ENGINE.full;
  const postgresSkipped = (await postgresAnswers()) ?? null;
  const runs = [];
  for (const store of postgresSkipped === null ? ['postgres', 'dynamodb'] : ['dynamodb']) {
    runs.push(await runOnStore(emu, buyers, { store, requestsPerPair, pairsPerEngine, hour }));
  }
  return { quota: QUOTA, engines: ENGINES, postgresSkipped, runs };
}

/** The buyers the part needs. */
function sharedQuotaBuyers(quick) {
  return ENGINES * Math.ceil((quick ? PAIRS_PER_ENGINE.quick : PAIRS_PER_ENGINE.full) / DIMS_PER_CUSTOMER);
}

/** One engine: opens its store, records its buyers' usage, flushes when told, on a clock the parent sets. */
async function serve() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { createMetering, silentLogger } = require('@meterkit/core');
  let offset = 0;
  let metering;
  const ops = {
    open: async ({ store: spec, endpoint, offset: o }) => {
      offset = o;
      let store;
      if (spec.kind === 'postgres') {
        const { PostgresStore } = require('@meterkit/store-postgres');
        store = new PostgresStore({ connectionString: spec.connectionString, schema: spec.schema, maxConnections: 3 });
      } else {
        const { DynamoDbStore } = require('@meterkit/store-dynamodb');
        store = new DynamoDbStore({ tableName: spec.tableName, region: 'us-east-1', endpoint: spec.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
        if (spec.create) await store.createTable();
      }
      await store.open(); // the first one on a schema migrates it: not a cost of the persist below
      // The defaults of a production instance: `requestsPerSecond` unset (9.75), `sharedQuota` unset (on).
      metering = createMetering({
        products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
        store,
        aws: { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
        clock: () => Date.now() + offset,
        logger: silentLogger,
        autoStart: false,
        retry: { baseDelayMs: 5, maxDelayMs: 50 },
        // A persist of 10 commits per pair must not fail on a busy bench machine; what is measured is the send pace.
        storeTimeoutMs: 60_000,
      });
    },
    record: async ({ buyers, pairs, requestsPerPair, offset: o }) => {
      offset = o;
      await recordPairs(metering, buyers, { pairs, requestsPerPair, dimsPerCustomer: DIMS_PER_CUSTOMER });
    },
    flush: async ({ offset: o }) => {
      offset = o;
      return metering.flush();
    },
    close: async () => {
      try {
        await metering?.close();
      } finally {
        setImmediate(() => process.disconnect());
      }
    },
  };
  serveIpcSteps(ops);
}

if (require.main === module) serve();

module.exports = { sharedQuotaFlush, sharedQuotaBuyers };
