// Hung store: PostgreSQL stops answering without refusing, in the middle of a run, and comes back. Unlike an outage
// (connections refused, errors at once), every store call just waits. Requests must still be answered, within the
// engine's storeTimeoutMs, usage must wait in memory and reach the store once it answers again, and totals must be
// exact: a write the app stopped waiting for may land late and must not count twice.
// Held lock: another session holds ACCESS EXCLUSIVE on the usage table; the app's writes queue behind it.
// Black hole: a TCP proxy between app and server stops forwarding, open connections and new ones alike.
// The app runs as documented: default storeTimeoutMs (5 s) and the PostgreSQL store's default timeouts.
const { setTimeout: sleep } = require('node:timers/promises');
const { randomBytes } = require('node:crypto');
const { startApp } = require('../lib/app-process');
const { Traffic } = require('../lib/traffic');
const { startBlackHole } = require('../../testing/black-hole/black-hole');
const { startWorld, sendAll, compare, PRODUCT, DIMENSIONS } = require('../lib/world');
const { pgUrl } = require('../config');

const STORE_TIMEOUT_MS = 5000;

async function appStatus(url) {
  const res = await fetch(`${url}/_drill/status`, { signal: AbortSignal.timeout(60_000) });
  return res.json();
}

/** Polls the app until its memory is empty and the store answers again. */
async function waitPersisted(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let status = await appStatus(url);
  while ((status.inMemory > 0 || status.persistError !== null || status.storeError !== null) && Date.now() < deadline) {
    await sleep(250);
    status = await appStatus(url);
  }
  return status;
}

async function hungRun(label, size, backend) {
  const world = await startWorld({ tenantCount: size.tenants });
  const app = await startApp({
    productCode: PRODUCT,
    dimensions: DIMENSIONS,
    store: { kind: 'postgres', connectionString: backend.appUrl, schema: backend.schema },
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
    const hungAt = Date.now();
    await backend.hang();
    await sleep(size.hangMs);
    const during = await appStatus(app.url);
    const servedDuring = traffic.ok - okBefore;
    const slowestDuring = traffic.slowestBetween(hungAt, Date.now());
    await backend.recover();
    const recoveredAt = Date.now();
    await sleep(size.afterMs);
    await traffic.stop();
    const after = await waitPersisted(app.url, 90_000);
    const backAfterMs = Date.now() - recoveredAt;
    await app.kill();
    await sendAll(world, backend.verifierStore());
    const result = compare(world, traffic.expected);
    const refused = traffic.failed + traffic.non2xx - failedBefore;
    const hangSeen = during.storeError !== null || during.persistError !== null;
    const ok =
      hangSeen && servedDuring > 0 && refused === 0 && result.mismatches.length === 0 && result.duplicates === 0 && result.sentTwice === 0 && after.inMemory === 0;
    return {
      drill: `hung store: ${label}`,
      faults: `${size.hangMs / 1000} s hang (${backend.how})`,
      records: result.records,
      expected: result.expectedUnits,
      accepted: result.acceptedUnits,
      loss: `${result.expectedUnits - result.acceptedUnits}; ${servedDuring} requests answered during the hang (slowest ${(slowestDuring / 1000).toFixed(1)} s, storeTimeoutMs ${STORE_TIMEOUT_MS / 1000} s), ${refused} failed; during it: ${during.inMemory} aggregates in memory, status ${during.storeError?.code ?? 'answered without a store error'}; all stored ${(backAfterMs / 1000).toFixed(1)} s after the store came back`,
      duplicates: result.duplicates,
      verdict: ok ? 'pass' : 'FAIL',
      details: { requests: traffic.ok, servedDuring, slowestDuringMs: slowestDuring, refused, during, after, backAfterMs, mismatches: result.mismatches.slice(0, 4) },
    };
  } finally {
    await traffic.stop();
    if (app.child.exitCode === null && app.child.signalCode === null) await app.kill();
    await world.emu.close();
  }
}

/** A fresh schema for one run, dropped afterwards; `run(schema, admin)` does the rest. */
async function withSchema(run) {
  const { Pool } = require('pg');
  const admin = new Pool({ connectionString: pgUrl, max: 2, connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  const schema = `mk_drill_${randomBytes(5).toString('hex')}`;
  try {
    return await run(schema, admin);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

function verifier(schema) {
  const { PostgresStore } = require('@meterkit/store-postgres');
  return () => new PostgresStore({ connectionString: pgUrl, schema, maxConnections: 2 });
}

async function heldLock(size) {
  const { Client } = require('pg');
  return withSchema(async (schema) => {
    let holder;
    return hungRun('PostgreSQL table locked', size, {
      how: 'LOCK TABLE … IN ACCESS EXCLUSIVE MODE held by another session',
      appUrl: pgUrl,
      schema,
      async hang() {
        holder = new Client({ connectionString: pgUrl });
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE "${schema}".meterkit_usage_records IN ACCESS EXCLUSIVE MODE`);
      },
      async recover() {
        await holder.query('ROLLBACK');
        await holder.end();
      },
      verifierStore: verifier(schema),
    });
  });
}

async function blackHoled(size) {
  const target = new URL(pgUrl);
  const hole = await startBlackHole(target.hostname, Number(target.port || 5432));
  const viaHole = new URL(pgUrl);
  viaHole.hostname = '127.0.0.1';
  viaHole.port = String(hole.port);
  try {
    return await withSchema((schema) =>
      hungRun('PostgreSQL black-holed', size, {
        how: 'a proxy stops forwarding: connections open, no answers',
        appUrl: viaHole.toString(),
        schema,
        hang: async () => hole.blackHole(),
        recover: async () => hole.heal(),
        verifierStore: verifier(schema),
      }),
    );
  } finally {
    await hole.shutdown();
  }
}

async function hungStoreDrill(size) {
  return [await heldLock(size), await blackHoled(size)];
}

module.exports = { hungStoreDrill };
