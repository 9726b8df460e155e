#!/usr/bin/env node
// Instructions and simulated cache misses per request of the recording path, counted by Valgrind's cachegrind:
// `node tools/bench/instructions.js [meterFor|meter] [customers] [build...]`, each build a directory holding
// @meterkit/core's compiled entry (default: packages/core/dist, the current build). On a shared machine a throughput
// figure moves by ±10 % from one run to the next; these counts move by 1 to 2 %, so they tell whether a change to the
// request path made it cheaper, which throughput rounds of a few percent cannot. What they do not show is what the
// hardware makes of the misses: throughput stays the measure of the targets (`npm run bench`).
//
// Each build runs twice in a child under cachegrind (node --predictable: no background threads and no heuristics
// driven by the clock, so that the counts do not depend on how slowly the process ran): after the same setup (customers registered, each resolved once, persisted, a full collection), one
// run makes `requests` requests of `meterFor()` (or `meter()`) + one record + commit, the other three times as many;
// the difference, divided by the requests it adds, is the cost of a request with the setup, the compilation and the
// process's start and exit taken out. Needs `valgrind` (Debian: valgrind); about a minute per build at 1,000
// customers.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { commandAvailable } = require('./lib/command-available');

const ROOT = resolve(__dirname, '..', '..');
/** Requests of the shorter run: at least one per customer, so that both runs reach every customer. */
const requestsFor = (customers) => Math.max(20_000, customers);

function child() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const [, , , build, mode, customersArg, requestsArg] = process.argv;
  const core = require(resolve(build));
  const { customers: makeCustomers, PRODUCT, DIMENSIONS } = require('./lib/fixtures');
  const count = Number(customersArg);
  const requests = Number(requestsArg);
  (async () => {
    // A clock that stands still: under cachegrind a run takes minutes, and a clock that ran would let the customers'
    // cached answers (tenantCacheMs) run out and be read again, which a request of a live app does not pay.
    const now = Date.now();
    const metering = core.createMetering({
      products: [{ productCode: PRODUCT, dimensions: DIMENSIONS.slice(0, 3) }],
      store: 'memory',
      logger: core.silentLogger,
      autoStart: false,
      clock: () => now,
    });
    const customers = makeCustomers(count);
    for (const customer of customers) await metering.putCustomer({ identity: customer, status: 'active' });
    for (const customer of customers) await metering.meterFor(customer);
    await metering.persist();
    global.gc();
    for (let r = 0; r < requests; r++) {
      const meter = mode === 'meter' ? metering.meter(customers[r % count]) : await metering.meterFor(customers[r % count]);
      meter.record('api_calls');
      void meter.commit();
    }
    await metering.persist();
    process.exit(0);
  })();
}

/** Totals of one child run: instructions, first-level data cache misses, last-level data cache misses. */
function counted(build, mode, customers, requests) {
  const run = spawnSync(
    'valgrind',
    ['--tool=cachegrind', '--cache-sim=yes', '--cachegrind-out-file=/dev/null', process.execPath, '--predictable', '--expose-gc', __filename, 'child', build, mode, String(customers), String(requests)],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (run.status !== 0) throw new Error(`cachegrind run of ${build} failed (${run.status}): ${run.stderr.slice(-2000)}`);
  const total = (label) => {
    const match = new RegExp(`${label}:\\s+([\\d,]+)`).exec(run.stderr);
    if (match === null) throw new Error(`no "${label}" in cachegrind's summary`);
    return Number(match[1].replaceAll(',', ''));
  };
  return { instructions: total('I\\s+refs'), d1Misses: total('D1\\s+misses'), llMisses: total('LLd\\s+misses') };
}

function main() {
  const [modeArg = 'meterFor', customersArg = '1000', ...buildArgs] = process.argv.slice(2);
  if (modeArg !== 'meterFor' && modeArg !== 'meter') throw new Error(`mode is meterFor or meter, got ${modeArg}`);
  const customers = Number(customersArg);
  if (!Number.isSafeInteger(customers) || customers < 1) throw new Error(`customers must be a positive integer, got ${customersArg}`);
  if (!commandAvailable('valgrind')) {
    console.error('valgrind is not installed (Debian: apt-get install valgrind).');
    process.exit(1);
  }
  const builds = (buildArgs.length > 0 ? buildArgs : [join(ROOT, 'packages', 'core', 'dist')]).map((build) => resolve(build));
  for (const build of builds) if (!existsSync(join(build, 'index.js'))) throw new Error(`${build} holds no index.js: build @meterkit/core first`);
  const requests = requestsFor(customers);
  console.log(`${modeArg}() + one record + commit, ${customers} customers: per request, from runs of ${requests} and ${3 * requests} requests under cachegrind`);
  for (const build of builds) {
    const few = counted(build, modeArg, customers, requests);
    const many = counted(build, modeArg, customers, 3 * requests);
    const per = (key) => (many[key] - few[key]) / (2 * requests);
    console.log(`  ${build.replace(`${ROOT}/`, '')}: ${per('instructions').toFixed(0)} instructions, ${per('d1Misses').toFixed(2)} L1 data misses, ${per('llMisses').toFixed(3)} last-level data misses`);
  }
}

if (process.argv[2] === 'child') child();
else main();
