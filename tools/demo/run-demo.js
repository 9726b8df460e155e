#!/usr/bin/env node
// meterkit end to end, no AWS account needed: a local AWS Marketplace Metering emulator, three buyers who
// subscribe and register, an hour of metered API traffic, and the flush that bills it with BatchMeterUsage.
// Time is simulated through the emulator's clock, so the hour closes in seconds instead of an hour.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { startEmulator } = require('@meterkit/emulator');
const { createMetering, silentLogger } = require('@meterkit/core');

const PRODUCT = 'prod-demo-analytics';
const DIMENSIONS = ['api_calls', 'gb_processed'];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-demo-'));
  const emulator = await startEmulator({ now: Date.parse('2026-07-15T10:05:00Z'), products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store: `sqlite:${join(dir, 'meterkit.db')}`,
    aws: { region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } },
    clock: () => emulator.clock.now(),
    logger: silentLogger,
  });
  console.log(`AWS Marketplace Metering emulator listening at ${emulator.endpoint}`);

  const tenants = ['acme', 'globex', 'initech'];
  for (const tenant of tenants) {
    const { token } = await emulator.subscribe({ productCode: PRODUCT });
    const customer = await metering.resolveRegistration(token);
    await metering.linkTenant(customer.key, tenant);
    console.log(`registered ${tenant.padEnd(8)} license …${customer.identity.licenseArn.slice(-8)}`);
  }

  const recorded = new Map();
  for (let i = 0; i < 3000; i++) {
    const tenant = tenants[i % tenants.length];
    const meter = await metering.meterFor(tenant);
    const gb = i % 7;
    meter.record('api_calls');
    if (gb > 0) meter.record('gb_processed', gb);
    await meter.commit();
    const totals = recorded.get(tenant) ?? { api_calls: 0, gb_processed: 0 };
    totals.api_calls += 1;
    totals.gb_processed += gb;
    recorded.set(tenant, totals);
  }
  console.log('metered 3000 requests in the 10:00 UTC hour');

  emulator.clock.set(Date.parse('2026-07-15T11:10:00Z'));
  const report = await metering.flush();
  console.log(`11:10 UTC, hour closed and its 10-minute lock passed: flush sent ${report.sent} records in ${report.calls} BatchMeterUsage call(s)`);

  let allMatch = true;
  for (const tenant of tenants) {
    const customer = (await metering.listCustomers()).find((c) => c.tenantId === tenant);
    for (const dimension of DIMENSIONS) {
      const billed = emulator.inspect.totalFor({ licenseArn: customer.identity.licenseArn, dimension });
      const expected = recorded.get(tenant)[dimension];
      allMatch &&= billed === expected;
      console.log(`  ${tenant.padEnd(8)} ${dimension.padEnd(13)} recorded ${String(expected).padStart(5)}  accepted by AWS ${String(billed).padStart(5)}`);
    }
  }
  const status = await metering.status();
  console.log(`status: ${status.counts.sent} sent, ${status.pending.length} hours pending, duplicates at AWS: ${emulator.inspect.duplicates().length}`);
  await metering.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
  if (!allMatch) {
    console.error('MISMATCH between recorded and billed usage');
    process.exit(1);
  }
  console.log('every unit recorded was billed exactly once');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
