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

/** meterFor() for customers the process already resolved: at least this many requests per second. */
const METER_FOR_TARGET = 2_000_000;

/** A request as the documented async API serves it: `await meterFor(customer)`, one record, commit. */
async function meterForRequests(metering, customers, requests) {
  for (let r = 0; r < requests; r++) {
    const meter = await metering.meterFor(customers[r % customers.length]);
    meter.record('api_calls');
    void meter.commit();
  }
}

/** The same request through the sync meter(), the path for customers the app resolved itself. */
async function meterRequests(metering, customers, requests) {
  for (let r = 0; r < requests; r++) {
    const meter = metering.meter(customers[r % customers.length]);
    meter.record('api_calls');
    void meter.commit();
  }
}

/** The hand-written counter for one record per request, awaited like meterFor() so both pay the same turn. */
async function mapRequests(_metering, customers, requests, counts) {
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  for (let r = 0; r < requests; r++) {
    const customer = await customers[r % customers.length];
    const key = `${customer.licenseArn}|${customer.customerAwsAccountId}|api_calls|${hour}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}

/**
 * meterFor() for known customers (registered, active, resolved once before the timing) at 1,000 and 100,000
 * customers, alternating with the sync meter() path and the hand-written Map in each round; medians, and ratios of
 * the same rounds. The engine persists between rounds, as its timer would, so memory stays what a live app holds.
 */
async function meterForRows() {
  const { meterForRequests: requests, meterForCustomers, rounds } = sizes.recording;
  const rows = [];
  for (const count of meterForCustomers) {
    const customers = makeCustomers(count);
    const metering = newMetering();
    for (const customer of customers) await metering.putCustomer({ identity: customer, status: 'active' });
    for (const customer of customers) await metering.meterFor(customer);
    await metering.persist();
    const times = { meterFor: [], meter: [], map: [] };
    for (let i = 0; i < rounds; i++) {
      const counts = new Map();
      times.map.push(await timeIt(() => mapRequests(metering, customers, requests, counts)));
      times.meter.push(await timeIt(() => meterRequests(metering, customers, requests)));
      await metering.persist();
      times.meterFor.push(await timeIt(() => meterForRequests(metering, customers, requests)));
      await metering.persist();
    }
    await metering.close();
    const perSecond = requests / median(times.meterFor);
    rows.push({
      customers: count,
      requests,
      rounds,
      meterForRequestsPerSecond: perSecond,
      meterRequestsPerSecond: requests / median(times.meter),
      mapRequestsPerSecond: requests / median(times.map),
      ratioToMeter: median(times.meter.map((t, j) => t / times.meterFor[j])),
      ratioToMap: median(times.map.map((t, j) => t / times.meterFor[j])),
      target: METER_FOR_TARGET,
      pass: perSecond >= METER_FOR_TARGET,
    });
  }
  return rows;
}

function heapAfterGc() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

/** Memory per live aggregate at one dimension: at most this many bytes. */
const MEMORY_TARGET_BYTES = 200;

/** Heap held per distinct (customer, dimension, hour) aggregate waiting in memory for the next persist. */
async function memoryPerAggregate(dimCount) {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const { customers: count } = sizes.memory;
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
  const bytesPerAggregate = (after - before) / aggregates;
  return {
    customers: count,
    dimensions: dimCount,
    aggregates,
    recordsInMemory: status.inMemory,
    heapDeltaBytes: after - before,
    bytesPerAggregate,
    ...(dimCount === 1 ? { target: MEMORY_TARGET_BYTES, pass: bytesPerAggregate <= MEMORY_TARGET_BYTES } : {}),
  };
}

// `BENCH_RECORDING_PARTS=meterFor` (comma-separated: headToHead, growth, meterFor, memory) runs some parts only.
const parts = process.env.BENCH_RECORDING_PARTS?.split(',') ?? ['headToHead', 'growth', 'meterFor', 'memory'];

runSuite(async () => ({
  headToHead: parts.includes('headToHead') ? await headToHead() : null,
  growth: parts.includes('growth') ? await growth() : [],
  meterFor: parts.includes('meterFor') ? await meterForRows() : [],
  memory: parts.includes('memory') ? await memoryPerAggregate(sizes.memory.dimensions) : null,
  memoryOneDimension: parts.includes('memory') ? await memoryPerAggregate(1) : null,
}));
