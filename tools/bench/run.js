#!/usr/bin/env node
// Hot-path benchmark: meterkit's request meter against the counter sellers hand-write (a Map keyed by a string
// built per record). Figures are ratios against that baseline, measured in the same run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { createMetering, silentLogger } = require('@meterkit/core');

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000_000);
const RECORDS_PER_REQUEST = 3;
const ROUNDS = 5;

const customers = Array.from({ length: 100 }, (_, i) => ({
  kind: 'license',
  licenseArn: `arn:aws:license-manager::111111111111:license:l-${String(i).padStart(32, '0')}`,
  customerAwsAccountId: String(222222222222 + i),
  productCode: 'prod-bench',
}));
const dimensions = ['api_calls', 'gb_processed', 'seats'];

function baseline() {
  const counts = new Map();
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  for (let r = 0; r < REQUESTS; r++) {
    const customer = customers[r % customers.length];
    for (let d = 0; d < RECORDS_PER_REQUEST; d++) {
      const key = `${customer.licenseArn}|${customer.customerAwsAccountId}|${dimensions[d]}|${hour}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts.size;
}

const metering = createMetering({
  products: [{ productCode: 'prod-bench', dimensions }],
  store: 'memory',
  logger: silentLogger,
  autoStart: false,
});

function meterkit() {
  for (let r = 0; r < REQUESTS; r++) {
    const meter = metering.meter(customers[r % customers.length]);
    meter.record('api_calls').record('gb_processed', 2).record('seats');
    void meter.commit();
  }
}

function measure(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function best(fn) {
  let fastest = Infinity;
  for (let i = 0; i < ROUNDS; i++) fastest = Math.min(fastest, measure(fn));
  return fastest;
}

async function main() {
  baseline();
  meterkit();
  const records = REQUESTS * RECORDS_PER_REQUEST;
  const base = best(baseline);
  const mk = best(meterkit);
  const heapBefore = process.memoryUsage().heapUsed;
  await metering.persist();
  const rows = [
    ['hand-written Map counter, string key per record (baseline)', records / base, 1],
    ['meterkit: meter(customer) + 3 x record() + commit() per request', records / mk, base / mk],
  ];
  console.log(`node ${process.version}, ${REQUESTS.toLocaleString('en-US')} requests x ${RECORDS_PER_REQUEST} records, best of ${ROUNDS}`);
  console.log('| path | records/s | vs baseline |');
  console.log('|---|---|---|');
  for (const [name, rate, ratio] of rows) console.log(`| ${name} | ${(rate / 1e6).toFixed(1)} M | ${ratio.toFixed(2)}x |`);
  console.log(`heap after aggregation: ${(heapBefore / 1024 / 1024).toFixed(0)} MiB`);
  await metering.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
