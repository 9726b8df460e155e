#!/usr/bin/env node
// Reliability drills: `npm run drills` (DRILLS_QUICK=1 for the short version; DRILLS_ONLY=crash,faults to pick).
// Prints a summary table and exits non-zero when an invariant failed. See docs/reliability.md.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const os = require('node:os');
const { quick, sizes } = require('./config');
const { markdownTable } = require('./lib/table');
const { removeAll } = require('./lib/files');

const DRILLS = [
  ['crash', () => require('./drills/crash').crashDrill(sizes.crash)],
  ['faults', () => require('./drills/faults').faultsDrill(sizes.faults)],
  ['time', () => require('./drills/time').timeDrill(sizes.time)],
  ['outage', () => require('./drills/store-outage').storeOutageDrill(sizes.outage)],
  ['hung', () => require('./drills/hung-store').hungStoreDrill(sizes.hung)],
  ['bad-input', () => require('./drills/bad-input').badInputDrill(sizes.badInput)],
  ['load', () => require('./drills/load').loadDrill(sizes.load)],
];

async function main() {
  const only = process.env.DRILLS_ONLY?.split(',').map((s) => s.trim());
  const unknown = (only ?? []).filter((name) => !DRILLS.some(([known]) => known === name));
  if (unknown.length > 0) {
    console.error(`unknown drill(s): ${unknown.join(', ')}; known: ${DRILLS.map(([name]) => name).join(', ')}`);
    process.exit(2);
  }
  const started = Date.now();
  const rows = [];
  for (const [name, run] of DRILLS) {
    if (only !== undefined && !only.includes(name)) continue;
    const t0 = Date.now();
    process.stdout.write(`drill ${name}… `);
    try {
      const result = await run();
      for (const row of [result].flat()) rows.push(row);
      console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const row of [result].flat()) if (row.details !== undefined) console.log(`  ${row.drill}: ${JSON.stringify(row.details)}`);
    } catch (error) {
      console.log('crashed');
      console.error(error);
      rows.push({ drill: name, verdict: 'FAIL', loss: `drill crashed: ${error.message}` });
    }
  }
  removeAll();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n${quick ? 'quick' : 'full'} run, ${((Date.now() - started) / 1000).toFixed(0)} s, node ${process.version}, ${os.cpus().length} x ${cpu}, ${os.platform()} ${os.release()}\n`);
  console.log(markdownTable(rows));
  const failed = rows.filter((row) => row.verdict === 'FAIL');
  if (failed.length > 0) {
    console.log(`\n${failed.length} drill(s) failed an invariant: ${failed.map((row) => row.drill).join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
