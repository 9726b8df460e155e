#!/usr/bin/env node
// Runs the benchmark suites, each in its own process, and writes the figures to docs/benchmarks.json and between
// the bench markers of docs/benchmarks.md. `node tools/bench/run.js [overhead|recording|persistence|flush ...]`
// runs some suites and keeps the others' last figures; `overhead:fastify,nest` runs the overhead suite for those
// frameworks only and keeps the other frameworks' rows from the last run, saying so in the section's command line.
// BENCH_QUICK=1 shrinks every workload for a smoke run.
const { spawn } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { parseResult } = require('./lib/child-result');
const { machine } = require('./lib/machine');
const { renderFigures, spliceFigures } = require('./lib/report');
const { targetRows } = require('./lib/targets');

const ROOT = join(__dirname, '..', '..');
const JSON_FILE = join(ROOT, 'docs', 'benchmarks.json');
const MD_FILE = join(ROOT, 'docs', 'benchmarks.md');

const SUITES = {
  overhead: { file: 'overhead.js', nodeArgs: [] },
  recording: { file: 'recording.js', nodeArgs: ['--expose-gc'] },
  persistence: { file: 'persistence.js', nodeArgs: [] },
  flush: { file: 'flush.js', nodeArgs: [] },
};

function runChild(name, suiteArgs = []) {
  const { file, nodeArgs } = SUITES[name];
  const script = join(__dirname, 'suites', file);
  const args = [...nodeArgs, relative(ROOT, script), ...suiteArgs];
  const command = `${process.env.BENCH_QUICK === '1' ? 'BENCH_QUICK=1 ' : ''}node ${args.join(' ')}`;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} exited with ${code}`));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ command, seconds, machine: machine(), result: parseResult(stdout) });
    });
  });
}

/**
 * The checks: every target of issue #24 (lib/targets.js; figures only reported are not checks), and what the suites
 * assert of billing: flush calls = ceil(N/25) with every unit billed once, and every meterkit server's units stored
 * between the 2xx answers and the requests sent.
 */
function checks(data) {
  const list = targetRows(data)
    .filter((row) => row.pass !== null)
    .map((row) => [`${row.target}: ${row.measured}${row.baseline ? `, baseline ${row.baseline}` : ''}${row.ratio ? `, ratio ${row.ratio}` : ''} (target ${row.goal})`, row.pass]);
  const flush = data.suites.flush?.result;
  if (flush !== undefined) {
    const seen = new Set();
    for (const e of [...flush.economy, ...flush.speed]) {
      const key = `${e.pairs}/${e.latencyMs}/${e.quota}`;
      if (seen.has(key)) continue;
      seen.add(key);
      list.push([`flush N=${e.pairs} latency ${e.latencyMs} ms: ${e.calls} calls, expected ${e.expectedCalls}${e.quota ? ' (quota respected)' : ''}`, e.pass]);
    }
  }
  for (const f of data.suites.overhead?.result.frameworks ?? []) {
    for (const s of f.stores ?? [{ store: data.suites.overhead.result.store, billing: f.billing }]) {
      const b = s.billing;
      list.push([`${f.framework} (${s.store ?? 'sqlite'}): ${b.unitsStored} units stored for ${b.answered}..${b.sent} requests`, b.pass]);
    }
  }
  return list;
}

/** The overhead suite's new rows for some frameworks, with the other frameworks' rows of the last run kept. */
function mergeFrameworks(fresh, last) {
  const measured = new Map(fresh.result.frameworks.map((f) => [f.framework, f]));
  const previous = last?.result.frameworks ?? [];
  const kept = previous.filter((f) => !measured.has(f.framework));
  if (kept.length === 0) return fresh;
  // The last run's order, each framework measured now in its place; frameworks it did not have at the end.
  const frameworks = previous.map((f) => measured.get(f.framework) ?? f);
  for (const f of fresh.result.frameworks) if (!frameworks.includes(f)) frameworks.push(f);
  return {
    ...fresh,
    command: `${fresh.command}; ${kept.map((f) => f.framework).join(', ')} kept from \`${last.command}\` of ${last.machine.date}`,
    result: { ...fresh.result, frameworks },
  };
}

async function main() {
  const wanted = process.argv.slice(2).map((arg) => {
    const [name, only] = arg.split(':');
    if (SUITES[name] === undefined) throw new Error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
    if (only !== undefined && name !== 'overhead') throw new Error(`only the overhead suite takes frameworks (${arg})`);
    return { name, frameworks: only === undefined ? [] : only.split(',') };
  });
  const runs = wanted.length > 0 ? wanted : Object.keys(SUITES).map((name) => ({ name, frameworks: [] }));
  const data = existsSync(JSON_FILE) && wanted.length > 0 ? JSON.parse(readFileSync(JSON_FILE, 'utf8')) : { suites: {} };
  for (const { name, frameworks } of runs) {
    console.error(`bench: ${name}${frameworks.length > 0 ? ` (${frameworks.join(', ')})` : ''}...`);
    const entry = await runChild(name, frameworks);
    data.suites[name] = frameworks.length > 0 ? mergeFrameworks(entry, data.suites[name]) : entry;
    console.error(`bench: ${name} done in ${entry.seconds.toFixed(1)} s`);
  }
  data.machine = machine();
  writeFileSync(JSON_FILE, `${JSON.stringify(data, null, 2)}\n`);
  const figures = renderFigures(data);
  writeFileSync(MD_FILE, spliceFigures(readFileSync(MD_FILE, 'utf8'), figures));
  console.log(figures);
  const results = checks(data);
  for (const [what, ok] of results) console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  console.log(`wrote ${relative(ROOT, JSON_FILE)} and ${relative(ROOT, MD_FILE)}`);
  if (results.some(([, ok]) => !ok)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
