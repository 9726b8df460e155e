// Issue #24's targets, one row per row of its table, read from the suites' figures (docs/benchmarks.json): what was
// measured, its baseline in the same run, their ratio, the target and whether it was met. A row whose figures are
// missing fails. `pass: null` marks a figure the issue asks to report, not to check. Where a suite reports the target
// it measured against, that one counts; the constants here are the issue's, for rows whose figures are missing.
const STALL_LIMIT_MS = 20;
const FRAMEWORK_TARGET = { express: 0.97, fastify: 0.95, nest: 0.95, 'nest-fastify': 0.95 };
const METER_FOR_TARGET = 2_000_000;
/** The sync meter() against the hand-written Map, as the issue measured it before: 2.48 M/s against 2.6 M/s. */
const SYNC_TO_MAP_TARGET = 0.95;
const MEMORY_TARGET_BYTES = 200;
/** Claim cost per record from 10x fewer records: flat within this factor (it was x2.46 with a sort per claim). */
const CLAIM_GROWTH_LIMIT = 1.25;
const QUOTA = 10;
const DURABILITY_RULE = { ratio: 0.9, addedP99Ms: 5 };

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (n, d = 2) => n.toFixed(d);
const millions = (n) => `${(n / 1e6).toFixed(2)} M/s`;
const ms = (n) => `${fixed(n, 1)} ms`;
const STORE_NAME = { memory: 'memory', sqlite: 'SQLite', postgres: 'PostgreSQL', dynamodb: 'DynamoDB' };
const NAME = { express: 'Express', fastify: 'Fastify', nest: 'Nest (Express platform)', 'nest-fastify': 'Nest (Fastify platform)' };

function missing(target, goal, why = 'not measured') {
  return { target, measured: why, baseline: '', ratio: '', goal, pass: false };
}

function frameworkRows(overhead) {
  const rows = [];
  const frameworks = new Map((overhead?.result.frameworks ?? []).map((f) => [f.framework, f]));
  const floorNote = (f) => `${f.floor ? `; floor ${fixed(f.floor.ratio)}` : ''}${f.control ? `; identical app ${fixed(f.control.ratio)}` : ''}`;
  const vsBare = (f, v, label) => {
    const target = f.targetRatio ?? FRAMEWORK_TARGET[f.framework];
    return { target: label, measured: `${int(v.rps)} req/s`, baseline: `bare ${int(f.bare.rps)} req/s`, ratio: fixed(v.ratio), goal: `≥ ${target}${floorNote(f)}`, pass: v.ratio >= target };
  };
  const fastify = frameworks.get('fastify');
  if (fastify === undefined) {
    rows.push(missing('Fastify throughput vs bare (SQLite)', '≥ 0.95'), missing('Fastify vs @fastify/rate-limit', '≥ 1.00'), missing('Fastify server CPU per request vs the rate limiter', '≤ 1.00'));
  } else {
    const m = fastify.meterkit;
    const ref = fastify.reference;
    const added = (v) => `${v.cpuMicrosPerRequest >= fastify.bare.cpuMicrosPerRequest ? '+' : ''}${fixed(v.cpuMicrosPerRequest - fastify.bare.cpuMicrosPerRequest, 1)}`;
    rows.push(vsBare(fastify, m, 'Fastify throughput vs bare (SQLite)'));
    rows.push({ target: 'Fastify vs @fastify/rate-limit (throughput, each vs bare)', measured: `meterkit ${fixed(m.ratio)}`, baseline: `rate limiter ${fixed(ref.ratio)}`, ratio: fixed(m.ratio / ref.ratio), goal: '≥ 1.00', pass: m.ratio >= ref.ratio });
    rows.push({
      target: 'Fastify server CPU per request vs the rate limiter',
      measured: `${fixed(m.cpuMicrosPerRequest, 1)} µs (${added(m)} over bare)`,
      baseline: `rate limiter ${fixed(ref.cpuMicrosPerRequest, 1)} µs (${added(ref)})`,
      ratio: fixed(m.cpuMicrosPerRequest / ref.cpuMicrosPerRequest),
      goal: '≤ 1.00',
      pass: m.cpuMicrosPerRequest <= ref.cpuMicrosPerRequest,
    });
  }
  for (const name of ['nest', 'nest-fastify']) {
    const f = frameworks.get(name);
    const label = `${NAME[name]} throughput vs bare (SQLite, \`@Metered()\` route)`;
    rows.push(f === undefined ? missing(label, `≥ ${FRAMEWORK_TARGET[name]}`) : vsBare(f, f.meterkit, label));
  }
  const express = frameworks.get('express');
  const stores = express === undefined ? [] : (express.stores ?? [{ store: overhead.result.store ?? 'sqlite', ...express.meterkit }]);
  for (const store of ['sqlite', 'postgres', 'dynamodb']) {
    const label = `Express throughput vs bare (${STORE_NAME[store]} store)`;
    const s = stores.find((x) => x.store === store);
    rows.push(s === undefined ? missing(label, `≥ ${FRAMEWORK_TARGET.express}`) : vsBare(express, s, label));
  }
  return rows;
}

function recordingRows(recording) {
  const rows = [];
  const meterFor = recording?.result.meterFor ?? [];
  for (const customers of [1_000, 100_000]) {
    const r = meterFor.find((x) => x.customers === customers);
    const label = `\`meterFor()\` + one \`record\` + \`commit\`, ${int(customers)} known customers`;
    const syncLabel = `sync \`meter()\` in the same rounds, ${int(customers)} customers`;
    if (r === undefined) {
      rows.push(missing(label, `≥ ${millions(METER_FOR_TARGET)}`), missing(syncLabel, `≥ ${SYNC_TO_MAP_TARGET} of the Map`));
      continue;
    }
    const target = r.target ?? METER_FOR_TARGET;
    rows.push({ target: label, measured: millions(r.meterForRequestsPerSecond), baseline: `sync \`meter()\` ${millions(r.meterRequestsPerSecond)}`, ratio: fixed(r.ratioToMeter), goal: `≥ ${millions(target)}`, pass: r.meterForRequestsPerSecond >= target });
    const toMap = r.meterRequestsPerSecond / r.mapRequestsPerSecond;
    rows.push({ target: syncLabel, measured: millions(r.meterRequestsPerSecond), baseline: `hand-written Map ${millions(r.mapRequestsPerSecond)}`, ratio: fixed(toMap), goal: `≥ ${SYNC_TO_MAP_TARGET} of the Map (before: 2.48 / 2.6 M/s)`, pass: toMap >= SYNC_TO_MAP_TARGET });
  }
  const one = recording?.result.memoryOneDimension;
  const five = recording?.result.memory;
  const label = 'memory per live aggregate, one dimension';
  if (one == null) rows.push(missing(label, `≤ ${MEMORY_TARGET_BYTES} B`));
  else {
    rows.push({
      target: label,
      measured: `${int(one.bytesPerAggregate)} B`,
      baseline: five == null ? '' : `${five.dimensions} dimensions: ${int(five.bytesPerAggregate)} B`,
      ratio: five == null ? '' : fixed(one.bytesPerAggregate / five.bytesPerAggregate),
      goal: `≤ ${one.target ?? MEMORY_TARGET_BYTES} B`,
      pass: one.bytesPerAggregate <= (one.target ?? MEMORY_TARGET_BYTES),
    });
  }
  return rows;
}

function persistenceRows(persistence) {
  const rows = [];
  const r = persistence?.result;
  const idle = r?.idleLoop;
  const limit = r?.stallLimitMs ?? STALL_LIMIT_MS;
  const goal = `p99 ≤ ${limit} ms`;
  for (const store of ['memory', 'sqlite', 'postgres', 'dynamodb']) {
    const e = r?.eventLoop.find((x) => x.store === store);
    for (const [part, what] of [['persist', 'persist'], ['firstClaim', 'first claim'], ['claimAll', 'whole claim loop']]) {
      const records = e?.records ?? (r?.eventLoop[0]?.records ?? 100_000);
      const label = `event-loop stall, ${STORE_NAME[store]}: ${what} of ${int(records)} ${part === 'persist' ? 'aggregates' : 'due records'}`;
      if (e === undefined) {
        rows.push(missing(label, goal, store === 'postgres' && r?.postgresSkipped ? 'not measured: no PostgreSQL server' : 'not measured'));
        continue;
      }
      const f = e[part];
      rows.push({
        target: label,
        measured: `${ms(f.p99Ms)} (max ${ms(f.maxMs)})`,
        baseline: idle === undefined ? '' : `idle ${ms(idle.p99Ms)}`,
        ratio: idle === undefined ? '' : fixed(f.p99Ms / idle.p99Ms, 1),
        goal,
        pass: f.p99Ms <= limit,
      });
    }
  }
  for (const store of ['sqlite', 'postgres']) {
    const g = r?.claimGrowth.find((x) => x.store === store);
    const check = store === 'sqlite';
    const label = `${STORE_NAME[store]} claim, µs per record${g ? ` ${int(g.sizes[0].records)} → ${int(g.sizes.at(-1).records)}` : ''}`;
    const goalText = check ? `growth ≤ ${CLAIM_GROWTH_LIMIT}x (flat)` : 'reported';
    if (g === undefined) {
      rows.push({ ...missing(label, goalText), pass: check ? false : null });
      continue;
    }
    rows.push({
      target: label,
      measured: `${fixed(g.sizes.at(-1).microsPerRecord, 1)} µs at ${int(g.sizes.at(-1).records)}`,
      baseline: `${fixed(g.sizes[0].microsPerRecord, 1)} µs at ${int(g.sizes[0].records)}`,
      ratio: `${fixed(g.growth)}x`,
      goal: goalText,
      pass: check ? g.growth <= CLAIM_GROWTH_LIMIT : null,
    });
  }
  for (const store of ['sqlite', 'postgres']) {
    const d = r?.durability.find((x) => x.store === store);
    const label = `durability ${STORE_NAME[store]}: \`sync\` (group commit) vs \`interval\``;
    if (d === undefined) {
      rows.push({ ...missing(label, 'reported'), pass: null });
      continue;
    }
    rows.push({
      target: label,
      measured: `${int(d.sync.requestsPerSecond)} req/s, p99 ${d.sync.p99Ms} ms`,
      baseline: `${int(d.interval.requestsPerSecond)} req/s, p99 ${d.interval.p99Ms} ms`,
      ratio: fixed(d.throughputRatio),
      goal: `reported (added p99 ${d.addedP99Ms >= 0 ? '+' : ''}${d.addedP99Ms} ms)`,
      pass: null,
    });
  }
  const sqlite = r?.durability.find((x) => x.store === 'sqlite');
  const ruleGoal = `\`sync\` if ratio ≥ ${DURABILITY_RULE.ratio} and added p99 ≤ ${DURABILITY_RULE.addedP99Ms} ms on SQLite, else \`interval\``;
  if (sqlite === undefined || r?.defaultDurability === undefined) rows.push(missing('default durability follows the rule', ruleGoal));
  else {
    const expected = sqlite.throughputRatio >= DURABILITY_RULE.ratio && sqlite.addedP99Ms <= DURABILITY_RULE.addedP99Ms ? 'sync' : 'interval';
    rows.push({
      target: 'default durability follows the rule',
      measured: `default \`${r.defaultDurability}\``,
      baseline: `SQLite ratio ${fixed(sqlite.throughputRatio)}, added p99 ${sqlite.addedP99Ms} ms`,
      ratio: '',
      goal: `${ruleGoal}: \`${expected}\``,
      pass: r.defaultDurability === expected,
    });
  }
  return rows;
}

function flushRows(flush) {
  const rows = [];
  const r = flush?.result;
  const atQuota = r?.speed.filter((s) => s.quota) ?? [];
  if (atQuota.length === 0) rows.push(missing('flush at defaults: busiest sliding second', `≤ ${QUOTA} calls`));
  for (const s of atQuota) {
    rows.push({
      target: `flush at defaults, ${s.latencyMs} ms latency: busiest sliding second`,
      measured: s.busiestSecond === undefined ? 'not measured' : `${s.busiestSecond} calls`,
      baseline: `AWS quota ${QUOTA} calls/s`,
      ratio: s.busiestSecond === undefined ? '' : fixed(s.busiestSecond / QUOTA),
      goal: `≤ ${QUOTA} calls`,
      pass: s.busiestSecond !== undefined && s.busiestSecond <= QUOTA,
    });
  }
  const s = atQuota.find((x) => x.latencyMs === 0);
  const label = `flush at defaults: ${int(s?.targetPairs ?? 100_000)} pairs`;
  if (s === undefined) rows.push(missing(label, 'within 5 % of 400 s'));
  else {
    const ratio = s.targetSecondsExtrapolated / s.targetSeconds;
    rows.push({
      target: label,
      measured: `${fixed(s.targetSecondsExtrapolated, 1)} s${s.extrapolated ? ` (from ${int(s.pairs)} pairs)` : ''}`,
      baseline: `${int(s.targetCalls)} calls at ${QUOTA}/s: ${fixed(s.targetSeconds, 0)} s`,
      ratio: fixed(ratio, 3),
      goal: 'within 5 % (0.95 to 1.05)',
      pass: s.withinTarget,
    });
  }
  rows.push(...sharedQuotaRows(r));
  const e = r?.emulatorCpu;
  const emuLabel = 'emulator CPU per BatchMeterUsage call, N → 10N pairs';
  if (e === undefined) rows.push(missing(emuLabel, 'flat (≤ 1.5x)'));
  else {
    const [small, large] = e.sizes;
    rows.push({
      target: emuLabel,
      measured: `${int(large.cpuMicrosPerCall)} µs at ${int(large.pairs)} pairs`,
      baseline: `${int(small.cpuMicrosPerCall)} µs at ${int(small.pairs)} pairs`,
      ratio: `${fixed(e.growth)}x`,
      goal: `≤ ${e.limit}x (flat)`,
      pass: e.pass,
    });
  }
  return rows;
}

/** Instances on one store flushing at once: the busiest sliding second of all their calls, every unit billed once. */
function sharedQuotaRows(r) {
  const q = r?.sharedQuota;
  const rows = [];
  for (const store of ['postgres', 'dynamodb']) {
    const run = q?.runs.find((x) => x.store === store);
    const label = `flush at defaults, quota shared: ${q?.engines ?? 3} instances on one ${STORE_NAME[store]} store, busiest sliding second of all their calls`;
    const goal = `≤ ${q?.quota ?? QUOTA} calls, every unit billed once`;
    if (run === undefined) {
      rows.push(missing(label, goal, store === 'postgres' && q?.postgresSkipped ? 'skipped: no PostgreSQL server' : 'not measured'));
      continue;
    }
    rows.push({
      target: label,
      measured: `${run.busiestSecond} calls; together ${run.callsPerSecond === undefined ? 'n/a' : fixed(run.callsPerSecond)} calls/s; ${int(run.billedUnits)} of ${int(run.expectedUnits)} units billed${run.duplicates > 0 ? `, ${run.duplicates} duplicates` : ''}`,
      baseline: `AWS quota ${q.quota} calls/s per account and region`,
      ratio: fixed(run.busiestSecond / q.quota),
      goal,
      pass: run.pass,
    });
  }
  return rows;
}

/** Every target row, in the order of the issue's table. */
function targetRows(data) {
  const s = data.suites;
  return [...frameworkRows(s.overhead), ...recordingRows(s.recording), ...persistenceRows(s.persistence), ...flushRows(s.flush)];
}

module.exports = { targetRows };
