// The emulated AWS side of a drill: an emulator with one product and subscribed tenants, plus the verifier that
// sends everything a store holds and compares what AWS accepted with the ground truth.
const { setTimeout: sleep } = require('node:timers/promises');
const { startEmulator } = require('@meterkit/emulator');
const { createMetering, silentLogger } = require('@meterkit/core');

const PRODUCT = 'prod-drills';
const DIMENSIONS = ['api_calls', 'gb_processed', 'seats', 'rows'];

function identityOf(subscription) {
  return { kind: 'license', licenseArn: subscription.licenseArn, customerAwsAccountId: subscription.accountId, productCode: subscription.productCode };
}

/** An emulator (real time unless `now`) with `tenantCount` subscribed tenants named t0, t1, … */
async function startWorld({ tenantCount, now, faults, seed } = {}) {
  const emu = await startEmulator({ now, seed, faults, products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
  const tenants = {};
  for (let i = 0; i < tenantCount; i++) tenants[`t${i}`] = identityOf(await emu.subscribe({ productCode: PRODUCT }));
  return { emu, tenants, tenantIds: Object.keys(tenants) };
}

/** A Metering instance on `store` that talks to the emulator and reads its clock. */
function drillMetering(world, store, options = {}) {
  return createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store,
    aws: { region: 'us-east-1', endpoint: world.emu.endpoint, credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' } },
    clock: () => world.emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 20, maxDelayMs: 500 },
    ...options,
  });
}

/**
 * Flushes until nothing is left to send or `timeoutMs` passed. Records handed back after a fault wait at least 1 s
 * before their next attempt, so an idle flush waits a little before the next. Returns the last status.
 */
async function drain(metering, { timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let flushes = 0;
  let status = await metering.status();
  while ((status.inMemory > 0 || status.pending.length > 0) && Date.now() < deadline) {
    const report = await metering.flush();
    flushes++;
    if (report.claimed === 0) await sleep(200);
    status = await metering.status();
  }
  return { status, flushes };
}

/** Drains, then closes. */
async function settle(metering, options) {
  const { status } = await drain(metering, options);
  await metering.close();
  return status;
}

/** Sends everything `store` holds: the emulator's clock first moves 2 h on, so every recorded hour is due. */
async function sendAll(world, store) {
  world.emu.clock.advance(2 * 3_600_000);
  return settle(drillMetering(world, store, { requestsPerSecond: 10 }));
}

/** Compares AWS's accepted totals with `expected` (Map "tenant|dimension" → units). */
function compare(world, expected) {
  let expectedUnits = 0;
  let acceptedUnits = 0;
  const mismatches = [];
  for (const tenant of world.tenantIds) {
    for (const dimension of DIMENSIONS) {
      const want = expected.get(`${tenant}|${dimension}`) ?? 0;
      const got = world.emu.inspect.totalFor({ licenseArn: world.tenants[tenant].licenseArn, dimension });
      expectedUnits += want;
      acceptedUnits += got;
      if (want !== got) mismatches.push({ tenant, dimension, expected: want, accepted: got });
    }
  }
  const records = world.emu.inspect.records();
  const keys = new Set(records.map((r) => `${r.licenseArn}|${r.dimension}|${r.hour}`));
  return {
    expectedUnits,
    acceptedUnits,
    mismatches,
    records: records.length,
    // Two accepted records for one (license, dimension, hour) would be a record billed twice.
    sentTwice: records.length - keys.size,
    duplicates: world.emu.inspect.duplicates().length,
  };
}

module.exports = { PRODUCT, DIMENSIONS, startWorld, drillMetering, drain, settle, sendAll, compare };
