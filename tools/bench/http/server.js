#!/usr/bin/env node
// One benchmark server in its own process: `node tools/bench/http/server.js <framework> <variant>[@<store>] [tenants]`.
// Reports { port } over IPC; answers 'cpu' with its CPU time so far; on 'stop' it persists, reports the units meterkit stored, and exits.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createMetering, silentLogger } = require('@meterkit/core');
const { licenseCustomer } = require('../lib/fixtures');
const { frameworks, PRODUCT, DIMENSION } = require('./apps');

const [framework, variantArg, tenantArg] = process.argv.slice(2);
// `meterkit@postgres`: the meterkit variant on another store than BENCH_HTTP_STORE's (or SQLite's).
const [variant, storeArg] = variantArg.split('@');
const tenants = Number(tenantArg ?? 10);

/**
 * The store behind the meterkit variants, by the variant's `@<store>` suffix or else BENCH_HTTP_STORE: `sqlite` (default: what users get, a file in `dir`),
 * `postgres` (METERKIT_TEST_PG_URL or the local test server, a schema of this process's own, dropped at stop), or
 * `dynamodb` (BENCH_DYNAMODB_ENDPOINT, a dynalite the overhead suite starts; a table of this process's own).
 */
async function benchStore(dir) {
  const kind = storeArg ?? process.env.BENCH_HTTP_STORE ?? 'sqlite';
  if (kind === 'sqlite') return { store: `sqlite:${join(dir, 'meterkit.db')}`, drop: async () => undefined };
  if (kind === 'postgres') {
    const { PostgresStore } = require('@meterkit/store-postgres');
    const schema = `meterkit_bench_${process.pid}`;
    const connectionString = process.env.METERKIT_TEST_PG_URL ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit';
    const drop = async () => {
      const { Client } = require('pg');
      const client = new Client({ connectionString });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    };
    return { store: new PostgresStore({ connectionString, schema }), drop };
  }
  if (kind === 'dynamodb') {
    const { DynamoDbStore } = require('@meterkit/store-dynamodb');
    const endpoint = process.env.BENCH_DYNAMODB_ENDPOINT;
    if (endpoint === undefined) throw new Error('the DynamoDB store needs BENCH_DYNAMODB_ENDPOINT');
    const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
    const store = new DynamoDbStore({ tableName: `meterkit-bench-${process.pid}`, region: 'us-east-1', endpoint, credentials });
    await store.createTable();
    return { store, drop: async () => undefined };
  }
  throw new Error(`unknown BENCH_HTTP_STORE ${kind}`);
}

/** What users get by default: the SQLite store in a file, interval durability (persisted every second). */
async function meteringWithTenants(dir, store) {
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: [DIMENSION] }],
    store,
    durability: 'interval',
    logger: silentLogger,
    aws: { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    flushIntervalMs: 3_600_000,
  });
  for (let i = 0; i < tenants; i++) {
    const customer = await metering.putCustomer({ identity: licenseCustomer(i), status: 'active' });
    await metering.linkTenant(customer.key, `tenant-${i}`);
  }
  return metering;
}

async function storedUnits(metering) {
  await metering.persist();
  const records = await metering.store.listRecords();
  return records.reduce((sum, r) => sum + r.quantity, 0);
}

async function main() {
  const build = frameworks[framework];
  if (build === undefined) throw new Error(`unknown framework ${framework}`);
  const dir = variant.startsWith('meterkit') ? mkdtempSync(join(tmpdir(), 'meterkit-bench-')) : undefined;
  const store = dir === undefined ? undefined : await benchStore(dir);
  const metering = dir === undefined ? undefined : await meteringWithTenants(dir, store.store);
  const server = await build(variant, metering);
  process.on('message', async (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ cpuMicros: user + system });
      return;
    }
    if (message !== 'stop') return;
    const units = metering === undefined ? null : await storedUnits(metering);
    await server.close();
    if (metering !== undefined) await metering.close().catch(() => undefined);
    if (store !== undefined) await store.drop().catch(() => undefined);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    process.send({ units }, () => process.exit(0));
  });
  process.send({ port: server.port });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
