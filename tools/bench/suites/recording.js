#!/usr/bin/env node
// Recording throughput in one process: meterkit's request meter against the counter sellers hand-write (a Map
// keyed by a string built per record), alternating the two, median of the rounds. Then the same path with 10x
// and 100x more customers, and the memory each live aggregate costs. Run with --expose-gc.
const { createMetering, silentLogger } = require('@meterkit/core');
const { runSuite } = require('../lib/child-result');
const { customers: makeCustomers, PRODUCT, DIMENSIONS } = require('../lib/fixtures');
const { sizes } = require('../lib/sizes');
const { median, timeIt } = require('../lib/stats');

const RECORDS_PER_REQUEST = 3;
const dimensions = DIMENSIONS.slice(0, 3);

function baseline(customers, requests) {
  const counts = new Map();
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  for (let r = 0; r < requests; r++) {
    const customer = customers[r % customers.length];
    for (let d = 0; d < RECORDS_PER_REQUEST; d++) {
      const key = `${customer.licenseArn}|${customer.customerAwsAccountId}|${dimensions[d]}|${hour}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts.size;
}

function newMetering(dims = dimensions) {
  return createMetering({ products: [{ productCode: PRODUCT, dimensions: dims }], store: 'memory', logger: silentLogger, autoStart: false });
}

function meterkit(metering, customers, requests) {
  for (let r = 0; r < requests; r++) {
    const meter = metering.meter(customers[r % customers.length]);
    meter.record('api_calls').record('gb_processed', 2).record('seats');
    void meter.commit();
  }
}

async function headToHead() {
  const { requests, rounds } = sizes.recording;
  const customers = makeCustomers(100);
  const metering = newMetering();
  baseline(customers, requests / 10);
  meterkit(metering, customers, requests / 10);
  const base = [];
  const mk = [];
  for (let i = 0; i < rounds; i++) {
    base.push(await timeIt(() => baseline(customers, requests)));
    mk.push(await timeIt(() => meterkit(metering, customers, requests)));
  }
  await metering.close();
  const records = requests * RECORDS_PER_REQUEST;
  const ratios = base.map((b, i) => b / mk[i]);
  return {
    requests,
    recordsPerRequest: RECORDS_PER_REQUEST,
    customers: customers.length,
    rounds,
    baselineRecordsPerSecond: records / median(base),
    meterkitRecordsPerSecond: records / median(mk),
    ratio: median(ratios),
  };
}

async function growth() {
  const { growthRequests, growthCustomers, rounds } = sizes.recording;
  const rows = [];
  for (const count of growthCustomers) {
    const customers = makeCustomers(count);
    const metering = newMetering();
    meterkit(metering, customers, Math.min(growthRequests, count * 3));
    const times = [];
    for (let i = 0; i < rounds; i++) times.push(await timeIt(() => meterkit(metering, customers, growthRequests)));
    await metering.close();
    rows.push({ customers: count, requests: growthRequests, recordsPerSecond: (growthRequests * RECORDS_PER_REQUEST) / median(times) });
  }
  return rows;
}

function heapAfterGc() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

/** Heap held per distinct (customer, dimension, hour) aggregate waiting in memory for the next persist. */
async function memoryPerAggregate() {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const { customers: count, dimensions: dimCount } = sizes.memory;
  const dims = DIMENSIONS.slice(0, dimCount);
  const customers = makeCustomers(count);
  const metering = newMetering(dims);
  // Identity objects belong to the app (its tenants); they exist before meterkit sees them.
  const before = heapAfterGc();
  for (const customer of customers) {
    const meter = metering.meter(customer);
    for (const d of dims) meter.record(d);
    void meter.commit();
  }
  const after = heapAfterGc();
  const status = await metering.status();
  const aggregates = count * dimCount;
  await metering.close();
  return {
    customers: count,
    dimensions: dimCount,
    aggregates,
    recordsInMemory: status.inMemory,
    heapDeltaBytes: after - before,
    bytesPerAggregate: (after - before) / aggregates,
  };
}

runSuite(async () => ({
  headToHead: await headToHead(),
  growth: await growth(),
  memory: await memoryPerAggregate(),
}));
