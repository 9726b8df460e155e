// Store outage: the store stops taking writes in the middle of a run and comes back. Requests must keep being
// served (fail-open), usage must wait in memory and reach the store once it is back, and totals must be exact.
// SQLite: another connection holds an EXCLUSIVE lock, so the app's writes fail with SQLITE_BUSY after its busy
// timeout. PostgreSQL: a TCP gate between app and server cuts every connection and refuses new ones.
const { setTimeout: sleep } = require('node:timers/promises');
const { randomBytes } = require('node:crypto');
const Database = require('better-sqlite3');
const { SqliteStore } = require('@meterkit/core');
const { startApp } = require('../lib/app-process');
const { Traffic } = require('../lib/traffic');
const { startTcpGate } = require('../lib/tcp-gate');
const { startWorld, sendAll, compare, PRODUCT, DIMENSIONS } = require('../lib/world');
const { dbFile } = require('../lib/files');
const { pgUrl } = require('../config');

async function appStatus(url) {
  const res = await fetch(`${url}/_drill/status`);
  return res.json();
}

/** Polls the app until its memory is empty and the store error is gone. */
async function waitPersisted(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let status = await appStatus(url);
  while ((status.inMemory > 0 || status.persistError !== null) && Date.now() < deadline) {
    await sleep(200);
    status = await appStatus(url);
  }
  return status;
}

async function outageRun(label, size, backend) {
  const world = await startWorld({ tenantCount: size.tenants });
  const app = await startApp({
    productCode: PRODUCT,
    dimensions: DIMENSIONS,
    store: backend.appStore,
    durability: 'sync',
    persistIntervalMs: 1000,
    commit: 'await',
    emulatorEndpoint: world.emu.endpoint,
    tenants: world.tenants,
    sampleMs: 0,
  });
  const traffic = new Traffic({ target: () => app.url, tenants: world.tenantIds, concurrency: size.concurrency });
  try {
    traffic.start();
    await sleep(size.beforeMs);
    const okBefore = traffic.ok;
    const failedBefore = traffic.failed + traffic.non2xx;
    await backend.fail();
    await sleep(size.outageMs);
    if (app.child.exitCode !== null) return crashed(label, backend, app, traffic);
    const during = await appStatus(app.url);
    const servedDuring = traffic.ok - okBefore;
    await backend.restore();
    await sleep(size.afterMs);
    await traffic.stop();
    if (app.child.exitCode !== null) return crashed(label, backend, app, traffic);
    const after = await waitPersisted(app.url, 30_000);
    // SIGKILL: only what reached the store counts from here on.
    await app.kill();
    await sendAll(world, backend.verifierStore());
    const result = compare(world, traffic.expected);
    const refused = traffic.failed + traffic.non2xx - failedBefore;
    const outageSeen = during.persistError !== null && (during.inMemory > 0 || during.statusFailed === true);
    const ok = outageSeen && refused === 0 && result.mismatches.length === 0 && result.duplicates === 0 && after.inMemory === 0 && after.persistError === null;
    return {
      drill: `store outage: ${label}`,
      faults: `${size.outageMs / 1000} s outage (${backend.how})`,
      records: result.records,
      expected: result.expectedUnits,
      accepted: result.acceptedUnits,
      loss: `${result.expectedUnits - result.acceptedUnits}; ${servedDuring} requests served during the outage, ${refused} failed; during it: ${during.statusFailed ? 'status() rejected' : `${during.inMemory} aggregates in memory`} (${during.persistError?.code ?? 'no store error'}, ${during.storeErrors} error events)`,
      duplicates: result.duplicates,
      verdict: ok ? 'pass' : 'FAIL',
      details: { requests: traffic.ok, servedDuring, refused, during, after, mismatches: result.mismatches.slice(0, 4) },
    };
  } finally {
    await traffic.stop();
    if (app.child.exitCode === null && app.child.signalCode === null) await app.kill();
    await world.emu.close();
  }
}

/** The app died during the outage: fail-open did not hold. */
function crashed(label, backend, app, traffic) {
  return {
    drill: `store outage: ${label}`,
    faults: `outage (${backend.how})`,
    loss: `the app process exited (code ${app.child.exitCode}) during the outage; ${traffic.failed} requests failed`,
    verdict: 'FAIL',
  };
}

async function sqliteOutage(size) {
  const path = dbFile('outage');
  let holder;
  return outageRun('SQLite file locked', size, {
    how: 'BEGIN EXCLUSIVE held by another connection',
    appStore: { kind: 'sqlite', path, busyTimeoutMs: 100 },
    async fail() {
      holder = new Database(path);
      holder.pragma('busy_timeout = 5000');
      holder.exec('BEGIN EXCLUSIVE');
    },
    async restore() {
      holder.exec('ROLLBACK');
      holder.close();
    },
    verifierStore: () => new SqliteStore({ path }),
  });
}

async function postgresOutage(size) {
  const { Pool } = require('pg');
  const { PostgresStore } = require('@meterkit/store-postgres');
  const admin = new Pool({ connectionString: pgUrl, max: 1, connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  const schema = `mk_drill_${randomBytes(5).toString('hex')}`;
  const target = new URL(pgUrl);
  const gate = await startTcpGate(target.hostname, Number(target.port || 5432));
  const viaGate = new URL(pgUrl);
  viaGate.hostname = '127.0.0.1';
  viaGate.port = String(gate.port);
  try {
    return await outageRun('PostgreSQL unreachable', size, {
      how: 'connections cut and refused',
      appStore: { kind: 'postgres', connectionString: viaGate.toString(), schema },
      fail: async () => gate.close(),
      restore: async () => gate.open(),
      verifierStore: () => new PostgresStore({ connectionString: pgUrl, schema, maxConnections: 2 }),
    });
  } finally {
    await gate.shutdown();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

async function storeOutageDrill(size) {
  return [
    await sqliteOutage(size),
    await postgresOutage(size),
  ];
}

module.exports = { storeOutageDrill };
