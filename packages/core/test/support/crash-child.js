// A separate app process for crash drills: meters or flushes against a SQLite file, then waits to be killed.
const { createMetering, silentLogger } = require('../../dist/index.js');

const { DB, ENDPOINT, OFFSET_MS, SCENARIO, CUSTOMERS, DURABILITY } = process.env;
const offset = Number(OFFSET_MS);
const customers = JSON.parse(CUSTOMERS);

const metering = createMetering({
  products: [{ productCode: 'prod-licensed', dimensions: ['api_calls', 'gb_processed'] }],
  store: `sqlite:${DB}`,
  aws: { region: 'us-east-1', endpoint: ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  clock: () => Date.now() + offset,
  logger: silentLogger,
  autoStart: false,
  durability: DURABILITY || 'interval',
  leaseMs: 60_000,
  retry: { baseDelayMs: 1, maxDelayMs: 5 },
});

async function main() {
  if (SCENARIO === 'record') {
    for (let i = 0; i < 50; i++) {
      for (const customer of customers) {
        await metering.meter(customer).record('api_calls', 1).record('gb_processed', 3).commit();
      }
    }
    if ((DURABILITY || 'interval') === 'interval') await metering.persist();
    process.stdout.write('recorded\n');
  } else if (SCENARIO === 'flush') {
    const report = await metering.flush();
    process.stdout.write(`flushed ${JSON.stringify(report)}\n`);
    await metering.close();
    process.exit(0);
  }
  setInterval(() => {}, 1000);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
