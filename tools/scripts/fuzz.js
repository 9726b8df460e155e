#!/usr/bin/env node
// npm run fuzz: the generative suites (model-based engine runs, contracts with consumption, race schedules on every store) with a large budget
// and one random seed, printed first so that a failure can be replayed:
//   METERKIT_FUZZ_SEED=<seed> METERKIT_FUZZ_RUNS=<runs> npm run fuzz
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const runs = process.env.METERKIT_FUZZ_RUNS ?? '1000';
const seed = process.env.METERKIT_FUZZ_SEED ?? String(1 + Math.floor(Math.random() * 0x7ffffffe));
const suites = [
  ['packages/core', ['test/generative/engine.property.spec.ts', 'test/consumption.property.spec.ts', 'test/aws-call-timeout.property.spec.ts', 'test/registration-races.property.spec.ts', 'test/close-during-flush.property.spec.ts', 'test/store/races.spec.ts', 'test/races']],
  ['packages/store-postgres', ['test/races.spec.ts']],
  ['packages/store-dynamodb', ['test/races.spec.ts', 'test/call-pacer.spec.ts', 'test/tag-budget.spec.ts']],
];

console.log(`fuzz: METERKIT_FUZZ_SEED=${seed} METERKIT_FUZZ_RUNS=${runs}`);
let failed = 0;
for (const [project, specs] of suites) {
  const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '-c', path.join(project, 'jest.config.js'), '--runInBand', ...specs.map((s) => path.join(project, s))], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, METERKIT_FUZZ_RUNS: runs, METERKIT_FUZZ_SEED: seed },
  });
  if (result.status !== 0) failed += 1;
}
console.log(`fuzz: ${failed === 0 ? 'every property held' : `${failed} project(s) failed`}; replay with METERKIT_FUZZ_SEED=${seed} METERKIT_FUZZ_RUNS=${runs}`);
process.exit(failed === 0 ? 0 : 1);
