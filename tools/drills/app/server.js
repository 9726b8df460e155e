// The app under drill: a small metered Express API run in a child process (forked by lib/app-process.js).
// Configuration arrives as JSON in MK_DRILL_APP; the app reports on its IPC channel: ready, memory samples.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const express = require('express');
const { createMetering, silentLogger, SqliteStore } = require('@meterkit/core');
const { meterkit } = require('@meterkit/express');

const config = JSON.parse(process.env.MK_DRILL_APP);

function storeOf(option) {
  if (option.kind === 'sqlite') return new SqliteStore({ path: option.path, busyTimeoutMs: option.busyTimeoutMs });
  const { PostgresStore } = require('@meterkit/store-postgres');
  return new PostgresStore({ connectionString: option.connectionString, schema: option.schema, maxConnections: 4, ...option.timeouts });
}

const core = createMetering({
  products: [{ productCode: config.productCode, dimensions: config.dimensions }],
  store: storeOf(config.store),
  durability: config.durability,
  persistIntervalMs: config.persistIntervalMs,
  ...(config.storeTimeoutMs === undefined ? {} : { storeTimeoutMs: config.storeTimeoutMs }),
  // Sending is the verifier's job: the app only records and persists.
  flushIntervalMs: 3_600_000,
  aws: { region: 'us-east-1', endpoint: config.emulatorEndpoint, credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' } },
  logger: silentLogger,
});
const storeErrors = { count: 0 };
core.on('error', () => storeErrors.count++);

const metering = meterkit(core, { identify: (req) => config.tenants[req.get('x-tenant') ?? ''] });
let served = 0;

const app = express();
app.use((req, res, next) => {
  served++;
  next();
});
app.use(metering);
const unmetered = {};
app.get('/work', metering.count('api_calls'), async (req, res) => {
  if (req.meter === undefined) {
    const code = req.meteringError?.code ?? 'not identified';
    unmetered[code] = (unmetered[code] ?? 0) + 1;
  }
  const units = Number(req.query.units ?? 1);
  req.meter?.record('gb_processed', units);
  // 'await': the usage is committed (with sync durability: persisted) before the answer is sent.
  // 'finish': the adapter's default, committed when the response has finished.
  if (config.commit === 'await') await req.meter?.commit();
  res.json({ ok: true });
});
app.get('/_drill/status', async (req, res) => {
  try {
    const status = await core.status();
    res.json({ inMemory: status.inMemory, persistError: status.persistError ?? null, storeError: status.storeError ?? null, storeErrors: storeErrors.count, served, unmetered });
  } catch (error) {
    // status() reads the store's statistics: while the store is unreachable it rejects as a whole.
    res.json({ inMemory: null, persistError: { code: error.code, message: error.message }, statusFailed: true, storeErrors: storeErrors.count, served, unmetered });
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: server.address().port });
});

if (config.sampleMs > 0) {
  setInterval(() => {
    global.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ type: 'memory', at: Date.now(), rss, heapUsed, served });
  }, config.sampleMs).unref();
}

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  metering.close().then(
    () => process.exit(0),
    () => process.exit(3),
  );
});
