// A separate app process for the sync-durability crash test: CONCURRENCY requests at a time, each committing one
// unit under `sync` durability into a SQLite file and printing its customer's index once the commit resolved (its
// answer), until the process is killed. The first line reports the connection's synchronous setting.
const { createMetering, SqliteStore, silentLogger } = require('../../dist/index.js');

const { DB, SYNCHRONOUS, CUSTOMERS, CONCURRENCY } = process.env;
const customers = JSON.parse(CUSTOMERS);
const store = new SqliteStore({ path: DB, ...(SYNCHRONOUS ? { synchronous: SYNCHRONOUS } : {}) });

const metering = createMetering({
  products: [{ productCode: customers[0].productCode, dimensions: ['api_calls'] }],
  store,
  durability: 'sync',
  aws: { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  logger: silentLogger,
  autoStart: false,
});

async function request(first) {
  for (let i = first; ; i += Number(CONCURRENCY)) {
    // The next request arrives on a later turn of the event loop, as requests read from sockets do.
    await new Promise((resolve) => setImmediate(resolve));
    const customer = i % customers.length;
    await metering.meter(customers[customer]).record('api_calls', 1).commit();
    // Answered once the line has left this process (a write the kill could still drop is not an answer); a request
    // waits for it, so each one has at most a commit or a line under way.
    await new Promise((resolve) => process.stdout.write(`${customer}\n`, resolve));
  }
}

async function main() {
  await store.open();
  // The store keeps its connection private; the setting it applied is what this test is about.
  process.stdout.write(`synchronous ${store.db.pragma('synchronous', { simple: true })}\n`);
  await Promise.all(Array.from({ length: Number(CONCURRENCY) }, (_, i) => request(i)));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
