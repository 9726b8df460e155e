#!/usr/bin/env node
// CPU the emulator spends answering BatchMeterUsage, for N records of N/10 buyers (10 dimensions each), sent
// in calls of 25 through the real AWS SDK client, as the flush benchmark does. The emulator runs in a child
// process so its CPU time (process.cpuUsage, user + system) is measured apart from the client's.
//
//   npx tsc -p packages/emulator/tsconfig.lib.json       # builds packages/emulator/dist
//   node packages/emulator/scripts/measure-cpu.js [records ...]   # default: 5000 40000
//
// METERKIT_EMULATOR_MODULE=<path> measures another build of the emulator (e.g. an older commit's dist).
const { fork } = require('node:child_process');
const path = require('node:path');

const PRODUCT = 'prod-cpu';
const DIMENSIONS = Array.from({ length: 10 }, (_, i) => `dim_${i}`);
const NOW = Date.UTC(2026, 6, 15, 11, 5);
const HOUR = Date.UTC(2026, 6, 15, 10);

async function child() {
  const { startEmulator } = require(process.env.METERKIT_EMULATOR_MODULE || path.join(__dirname, '..', 'dist'));
  const records = Number(process.argv[3]);
  const emu = await startEmulator({ now: NOW, products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
  const buyers = [];
  for (let i = 0; i < Math.ceil(records / DIMENSIONS.length); i++) {
    const s = await emu.subscribe({ productCode: PRODUCT });
    buyers.push({ licenseArn: s.licenseArn, accountId: s.accountId });
  }
  let start;
  process.on('message', async (m) => {
    if (m === 'start') {
      start = process.cpuUsage();
      process.send({ ready: true });
    } else if (m === 'stop') {
      const used = process.cpuUsage(start);
      const billed = emu.inspect.records().length;
      await emu.close();
      process.send({ cpuMs: (used.user + used.system) / 1000, billed }, () => process.exit(0));
    }
  });
  process.send({ endpoint: emu.endpoint, buyers });
}

function once(proc) {
  return new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => reject(new Error(`emulator process exited with ${code}`)));
  });
}

async function measure(records) {
  const { MarketplaceMeteringClient, BatchMeterUsageCommand } = require('@aws-sdk/client-marketplace-metering');
  const proc = fork(__filename, ['--child', String(records)], { stdio: 'inherit' });
  const { endpoint, buyers } = await once(proc);
  const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'cpu', secretAccessKey: 'cpu' }, maxAttempts: 1 });
  const all = [];
  for (let i = 0; i < records; i++) {
    const b = buyers[Math.floor(i / DIMENSIONS.length)];
    all.push({ Timestamp: new Date(HOUR), Dimension: DIMENSIONS[i % DIMENSIONS.length], Quantity: 1, CustomerAWSAccountId: b.accountId, LicenseArn: b.licenseArn });
  }
  proc.send('start');
  await once(proc);
  const wall = process.hrtime.bigint();
  for (let i = 0; i < all.length; i += 25) {
    const out = await client.send(new BatchMeterUsageCommand({ UsageRecords: all.slice(i, i + 25) }));
    if (out.Results.some((r) => r.Status !== 'Success')) throw new Error('a record was not accepted');
  }
  const wallMs = Number(process.hrtime.bigint() - wall) / 1e6;
  proc.send('stop');
  const { cpuMs, billed } = await once(proc);
  client.destroy();
  if (billed !== records) throw new Error(`billed ${billed} records of ${records}`);
  return { records, buyers: buyers.length, calls: Math.ceil(records / 25), emulatorCpuMs: Math.round(cpuMs), wallMs: Math.round(wallMs) };
}

if (process.argv[2] === '--child') {
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  (async () => {
    const sizes = process.argv.slice(2).map(Number);
    for (const n of sizes.length ? sizes : [5000, 40000]) console.log(JSON.stringify(await measure(n)));
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
