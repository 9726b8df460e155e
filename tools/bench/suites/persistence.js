#!/usr/bin/env node
// Persistence throughput: increments per second written with store.addUsage(), in batches shaped as the persister
// sends them (every delta aggregated since the last persist, one atomic call), into SQLite and PostgreSQL, with
// few (100) and many distinct keys. The first batch creates the records; the following ones add to them.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { SqliteStore, customerKey } = require('@meterkit/core');
const { PostgresStore } = require('@meterkit/store-postgres');
const { Pool } = require('pg');
const { runSuite } = require('../lib/child-result');
const { customers, PRODUCT, DIMENSIONS } = require('../lib/fixtures');
const { sizes } = require('../lib/sizes');
const { median, timeIt } = require('../lib/stats');

const PG_URL = process.env.METERKIT_TEST_PG_URL ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit';
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

async function postgresAnswers() {
  const pool = new Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `no PostgreSQL server at METERKIT_TEST_PG_URL (${String(error.message ?? error)})`;
  } finally {
    await pool.end();
  }
}

runSuite(async () => {
  const { fewKeys, fewBatches, manyKeys, manyBatches } = sizes.persistence;
  const skipped = await postgresAnswers();
  const result = { sqlite: [], postgres: [], postgresSkipped: skipped ?? null };
  for (const [keys, batches] of [[fewKeys, fewBatches], [manyKeys, manyBatches]]) {
    result.sqlite.push(await sqlite(keys, batches));
    if (skipped === undefined) result.postgres.push(await postgres(keys, batches));
  }
  return result;
});
