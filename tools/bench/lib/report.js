// Renders the figures of docs/benchmarks.json as the markdown between the bench markers of docs/benchmarks.md:
// issue #24's targets first (lib/targets.js), then each suite's section.
const { targetRows } = require('./targets');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (n, d = 2) => n.toFixed(d);
const millions = (n) => `${(n / 1e6).toFixed(2)} M`;
const signed = (n) => `${n >= 0 ? '+' : ''}${fixed(n, 1)} ms`;
const passFail = (ok) => (ok ? 'PASS' : 'FAIL');
const STORE_NAME = { memory: 'memory', sqlite: 'SQLite', postgres: 'PostgreSQL', dynamodb: 'DynamoDB' };
const duration = (s) => (s >= 3600 ? `${fixed(s / 3600, 1)} h` : s >= 120 ? `${fixed(s / 60, 1)} min` : `${fixed(s, 1)} s`);

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function machineLine(m) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}${m.quick ? ', **BENCH_QUICK=1 (smoke sizes: not figures to quote)**' : ''}, ${m.date.slice(0, 16).replace('T', ' ')} UTC`;
}

function commandLine(entry) {
  return `Command: \`${entry.command}\` (${duration(entry.seconds)}); machine: ${machineLine(entry.machine)}.`;
}

function overhead(entry) {
  const { frameworks, targetRatio } = entry.result;
  const storeName = (store) => STORE_NAME[store ?? 'sqlite'] ?? store;
  const rows = [];
  for (const f of frameworks) {
    const cpu = (v) => `${fixed(v.cpuMicrosPerRequest, 0)} µs`;
    const cpuDiff = (v) => `${cpu(v)} (${v.cpuMicrosPerRequest >= f.bare.cpuMicrosPerRequest ? '+' : ''}${fixed(v.cpuMicrosPerRequest - f.bare.cpuMicrosPerRequest, 0)})`;
    const target = f.targetRatio ?? targetRatio;
    const billing = (b) => `billing ${passFail(b.pass)} (${int(b.unitsStored)} units for ${int(b.answered)}..${int(b.sent)} requests${b.processes > 1 ? `, ${b.processes} processes, each checked` : ''})`;
    rows.push([f.framework, 'bare', int(f.bare.rps), `${fixed(f.bare.p99Ms, 0)} ms`, '1.00', '', cpu(f.bare), '']);
    // meterkit on each store measured; results without `stores` ran on one store, named by `store`.
    const stores = f.stores ?? [{ store: entry.result.store, ...f.meterkit, billing: f.billing, pass: f.meterkit.meetsTarget }];
    for (const s of stores) {
      rows.push([
        f.framework,
        `meterkit (${storeName(s.store)}, interval)`,
        int(s.rps),
        `${fixed(s.p99Ms, 0)} ms`,
        `**${fixed(s.ratio)}**`,
        signed(s.p99DiffMs),
        cpuDiff(s),
        `${s.ratio >= target ? 'met' : '**short**'} (≥ ${target}); ${billing(s.billing)}`,
      ]);
    }
    if (f.reference !== null) {
      rows.push([f.framework, f.reference.name, int(f.reference.rps), `${fixed(f.reference.p99Ms, 0)} ms`, fixed(f.reference.ratio), signed(f.reference.p99DiffMs), cpuDiff(f.reference), 'reference']);
    }
    if (f.control != null) {
      rows.push([f.framework, 'bare again, own process (control)', int(f.control.rps), `${fixed(f.control.p99Ms, 0)} ms`, fixed(f.control.ratio), signed(f.control.p99DiffMs), cpuDiff(f.control), 'what an identical app reads']);
    }
    if (f.floor != null) {
      rows.push([f.framework, 'floor (same hooks, no work)', int(f.floor.rps), `${fixed(f.floor.p99Ms, 0)} ms`, fixed(f.floor.ratio), signed(f.floor.p99DiffMs), cpuDiff(f.floor), 'the least meterkit could cost']);
    }
    for (const a of f.alternatives ?? []) {
      rows.push([f.framework, a.name, int(a.rps), `${fixed(a.p99Ms, 0)} ms`, fixed(a.ratio), signed(a.p99DiffMs), cpuDiff(a), '']);
    }
  }
  const first = frameworks[0];
  const parts = [
    '### Request overhead per framework',
    '',
    commandLine(entry),
    `autocannon, ${first.connections} connections, ${first.rounds} rounds of ${first.seconds} s per variant, ${first.design ?? 'variants alternating'}; medians of the per-round ratio to bare${first.pinning ? ` (${first.pinning})` : ''}. Target: meterkit ≥ ${targetRatio} (Express ≥ 0.97 on every store) and not below the reference. The floor: the hooks meterkit adds, doing nothing. The control: bare again in processes of its own, measured like every variant; its distance from 1.00 is the method's resolution in this run.`,
    '',
    table(['framework', 'variant', 'req/s', 'p99', 'throughput vs bare', 'p99 vs bare', 'server CPU per request (vs bare)', 'target / check'], rows),
  ];
  for (const f of frameworks.filter((x) => x.profile !== undefined)) {
    const p = f.profile;
    parts.push('', `Profile of the ${f.framework} meterkit server (\`node --cpu-prof\`, ${int(p.busySamples ?? 0)} busy samples, start-up included):`);
    if (p.error !== undefined) {
      parts.push('', p.error);
      continue;
    }
    parts.push('', `Self time by area: ${p.areas.map((a) => `${a.area} ${a.percent}%`).join(', ')}.`, '');
    parts.push(table(['top frames (self time)', '%', 'mostly called from'], p.top.map((t) => [`\`${t.frame}\``, fixed(t.percent, 1), t.calledFrom ? `\`${t.calledFrom}\`` : ''])));
    if (p.meterkitTop.length > 0) {
      parts.push('', table(['top meterkit frames', '%'], p.meterkitTop.map((t) => [`\`${t.frame}\``, fixed(t.percent, 1)])));
    }
  }
  return parts.join('\n');
}

function recording(entry) {
  const { headToHead: h, growth, memory: m, memoryOneDimension: one } = entry.result;
  // BENCH_RECORDING_PARTS runs some parts only: the others are null or empty.
  const parts = ['### Recording throughput (one process)', '', commandLine(entry)];
  if (h != null) {
    parts.push(
      `${int(h.requests)} requests x ${h.recordsPerRequest} records for ${h.customers} customers, ${h.rounds} alternating rounds, median.`,
      '',
      table(
        ['path', 'records/s', 'vs baseline'],
        [
          ['hand-written Map counter, string key per record (baseline)', millions(h.baselineRecordsPerSecond), '1.00x'],
          ['meterkit: `meter(customer)` + 3 x `record()` + `commit()` per request', millions(h.meterkitRecordsPerSecond), `${fixed(h.ratio)}x`],
        ],
      ),
    );
  }
  if (growth.length > 0) {
    parts.push('', table(['customers', 'meterkit records/s', 'vs 100 customers'], growth.map((g) => [int(g.customers), millions(g.recordsPerSecond), `${fixed(g.recordsPerSecond / growth[0].recordsPerSecond)}x`])));
  }
  parts.push('', ...meterForTable(entry.result.meterFor ?? []));
  const memory = [m, one].filter((x) => x != null);
  if (memory.length > 0) {
    parts.push(
      'Memory per live aggregate: the heap delta after `gc()` around recording one unit per (customer, dimension), held in memory before persist.',
      '',
      table(
        ['dimensions per customer', 'aggregates', 'heap delta', 'bytes per live aggregate', 'target / check'],
        memory.map((x) => [
          x.dimensions,
          `${int(x.aggregates)} (${int(x.customers)} customers, ${int(x.recordsInMemory)} in memory)`,
          `${fixed(x.heapDeltaBytes / 2 ** 20, 1)} MiB`,
          `**${int(x.bytesPerAggregate)} B**`,
          x.target === undefined ? '' : `≤ ${x.target} B: ${passFail(x.pass)}`,
        ]),
      ),
    );
  }
  return parts.join('\n');
}

function meterForTable(rows) {
  if (rows.length === 0) return [];
  return [
    `\`meterFor()\` for known customers (registered, active, resolved once before the timing): ${int(rows[0].requests)} requests per round, each \`meterFor\` + one \`record\` + \`commit\`, alternating with the sync \`meter()\` and the hand-written Map, ${rows[0].rounds} rounds, medians; ratios of the same rounds.`,
    '',
    table(
      ['customers', '`meterFor()` requests/s', 'sync `meter()` requests/s', 'hand-written Map requests/s', '`meterFor` vs `meter()`', '`meterFor` vs Map', 'target / check'],
      rows.map((r) => [int(r.customers), `**${millions(r.meterForRequestsPerSecond)}**`, millions(r.meterRequestsPerSecond), millions(r.mapRequestsPerSecond), `${fixed(r.ratioToMeter)}x`, `${fixed(r.ratioToMap)}x`, `≥ ${millions(r.target)}: ${passFail(r.pass)}`]),
    ),
    '',
  ];
}

function persistence(entry) {
  const r = entry.result;
  const rows = [];
  for (const [store, list] of [['SQLite', r.sqlite], ['PostgreSQL', r.postgres]]) {
    for (const p of list) rows.push([store, int(p.keys), int(p.batches), int(p.createPerSecond), int(p.addPerSecond), `${fixed(p.addBatchMs, 1)} ms`]);
  }
  const growth = (list) => (list.length === 2 ? `${fixed(list[1].addPerSecond / list[0].addPerSecond)}x` : 'n/a');
  return [
    '### Persistence throughput (`store.addUsage`)',
    '',
    commandLine(entry),
    r.postgresSkipped === null ? '' : `PostgreSQL skipped: ${r.postgresSkipped}.`,
    '',
    table(['store', 'distinct keys per batch', 'batches', 'increments/s, first batch (creates)', 'increments/s, later batches (adds)', 'one batch'], rows),
    '',
    r.sqlite.length === 0 ? '' : `Increments/s with ${int(r.sqlite.at(-1).keys)} keys vs ${int(r.sqlite[0].keys)} keys: SQLite ${growth(r.sqlite)}, PostgreSQL ${growth(r.postgres)}.`,
    ...eventLoopTables(r),
    ...durabilityTable(r),
  ].join('\n');
}

function eventLoopTables(r) {
  if (r.eventLoop.length === 0) return [];
  const limit = r.stallLimitMs ?? 20;
  const cell = (f) => `${fixed(f.p99Ms, 1)} / ${fixed(f.maxMs, 1)} ms (${fixed(f.turnCpuMaxMs ?? 0, 1)})`;
  const rows = r.eventLoop.map((e) => [
    STORE_NAME[e.store] ?? e.store,
    int(e.records),
    `${cell(e.persist)} ${passFail(e.persist.pass)}`,
    `${cell(e.firstClaim)} ${passFail(e.firstClaim.pass)}`,
    `${cell(e.claimAll)} ${passFail(e.claimAll.pass)}`,
    `${fixed(e.claimAll.seconds, 2)} s`,
  ]);
  const parts = [
    '',
    '#### Event-loop delay of background work',
    '',
    `\`monitorEventLoopDelay\` p99 / max, and in parentheses the process's CPU time in its longest turn (it leaves out waiting for a core), while the engine persists N aggregates and while the store claims N due records ${int(500)} at a time; limit p99 ≤ ${limit} ms.${r.idleLoop === undefined ? '' : ` The same monitor with the process idle: p99 ${fixed(r.idleLoop.p99Ms, 1)} ms, max ${fixed(r.idleLoop.maxMs, 1)} ms.`}`,
    '',
    table(['store', 'N', 'persist of N aggregates', 'first claim (freezes all N)', 'whole claim loop', 'claim loop time'], rows),
  ];
  if (r.claimGrowth.length > 0) {
    parts.push(
      '',
      table(
        ['store', ...r.claimGrowth[0].sizes.map((s) => `claim µs per record at ${int(s.records)}`), 'growth', 'first claim p99 at each size'],
        r.claimGrowth.map((g) => [STORE_NAME[g.store] ?? g.store, ...g.sizes.map((s) => fixed(s.microsPerRecord, 1)), `${fixed(g.growth)}x`, g.sizes.map((s) => `${fixed(s.firstClaimP99Ms, 1)} ms`).join(', ')]),
      ),
    );
  }
  return parts;
}

function durabilityTable(r) {
  if (r.durability.length === 0) return [];
  const d0 = r.durability[0];
  const rows = [];
  for (const d of r.durability) {
    const store = STORE_NAME[d.store] ?? d.store;
    rows.push([store, '`interval`', int(d.interval.requestsPerSecond), `${d.interval.p99Ms} ms`, '1.00', '']);
    rows.push([store, '`sync` (group commit)', int(d.sync.requestsPerSecond), `${d.sync.p99Ms} ms`, `**${fixed(d.throughputRatio)}**`, `${d.addedP99Ms >= 0 ? '+' : ''}${d.addedP99Ms} ms`]);
    rows.push([store, '`sync`, 2 ms gather window (the previous default)', int(d.syncWindow.requestsPerSecond), `${d.syncWindow.p99Ms} ms`, fixed(d.syncWindow.throughputRatio), '']);
  }
  return [
    '',
    '#### Durability: `sync` against `interval`',
    '',
    `HTTP requests each committing one unit, ${d0.connections} connections, ${d0.rounds} rounds of ${d0.seconds} s per variant, alternating; medians (ratio and added p99 of the same rounds). Every answered request's unit was stored, once.${r.defaultDurability === undefined ? '' : ` The default durability: \`${r.defaultDurability}\`.`}`,
    '',
    table(['store', 'durability', 'req/s', 'p99', 'throughput vs `interval`', 'added p99'], rows),
  ];
}

function flush(entry) {
  const r = entry.result;
  const economy = r.economy.map((e) => [int(e.pairs), int(e.requests), int(e.calls), int(e.expectedCalls), passFail(e.pass), int(e.billedUnits)]);
  const speed = r.speed.map((s) => [
    s.quota ? 'default (AWS quota with headroom)' : 'lifted',
    `${s.latencyMs} ms`,
    int(s.pairs),
    `${fixed(s.seconds, 1)} s`,
    fixed(s.callsPerSecond, 1),
    int(s.recordsPerSecond),
    s.busiestSecond === undefined ? '' : `${s.busiestSecond} calls${s.quota ? ' (≤ 10)' : ''}`,
    `${duration(s.targetSecondsExtrapolated)}${s.extrapolated ? ' (extrapolated)' : ' (measured)'}`,
    passFail(s.pass),
  ]);
  const n = r.naive;
  return [
    '### Flush economy and speed (emulator, SQLite store)',
    '',
    commandLine(entry),
    `${r.dimsPerCustomer} dimensions per customer, ${r.requestsPerPair} requests per (customer, dimension) pair in one hour, one product.`,
    '',
    table(['pairs N', 'requests', 'BatchMeterUsage calls', 'ceil(N/25)', 'check', 'units billed'], economy),
    '',
    table(['call rate', 'latency', 'pairs measured', 'flush time', 'calls/s', 'records/s', 'busiest sliding second', `time for N = ${int(n.pairs)}`, 'check'], speed),
    ...sharedQuotaTable(r.sharedQuota),
    ...emulatorTable(r.emulatorCpu),
    '',
    table(
      ['integration', `calls for N = ${int(n.pairs)} pairs, ${int(n.requests)} requests`, 'time at 10 calls/s'],
      [
        ['naive: one call per request', int(n.calls), duration(n.secondsAtQuota)],
        ['meterkit: one record per pair and hour, 25 per call', int(n.meterkitCalls), duration(n.meterkitSecondsAtQuota)],
      ],
    ),
  ].join('\n');
}

function sharedQuotaTable(q) {
  if (q === undefined) return [];
  const rows = q.runs.map((run) => [
    STORE_NAME[run.store],
    `${run.engines} × ${int(run.pairsPerEngine)}`,
    `${int(run.calls)} (${int(run.expectedCalls)})`,
    run.callsPerEngine.join(' / '),
    `${int(run.billedUnits)} of ${int(run.expectedUnits)}${run.duplicates > 0 ? `, ${run.duplicates} duplicates` : ''}`,
    `${fixed(run.seconds, 1)} s`,
    run.callsPerSecond === undefined ? '' : fixed(run.callsPerSecond),
    fixed(run.callsOverFlush, 1),
    `${run.busiestSecond} calls (≤ ${q.quota})`,
    passFail(run.pass),
  ]);
  if (q.postgresSkipped) rows.unshift([STORE_NAME.postgres, `skipped: ${q.postgresSkipped}`, '', '', '', '', '', '', '', '']);
  return [
    '',
    `#### Shared quota: ${q.engines} instances on one store, flushing at once`,
    '',
    `Each instance a process of its own with the defaults (\`requestsPerSecond\` and \`sharedQuota\` unset), its own buyers' pairs of one closed hour; all flush at once. "Together" is ${q.quota} calls per the mean time from a call to the ${q.quota}th after it, over all instances' calls (the pace the store's send-slot ring held; the default budget is 9.75/s).`,
    '',
    table(['store', 'instances × pairs', 'calls (ceil(N/25))', 'calls per instance', 'units billed', 'flush time', 'calls/s together', 'calls / flush time', 'busiest sliding second', 'check'], rows),
  ];
}

function emulatorTable(e) {
  if (e === undefined) return [];
  return [
    '',
    `The emulator (its own process) per BatchMeterUsage call, quota lifted, no latency: growth from N to 10N ${fixed(e.growth)}x (limit ${e.limit}x): ${passFail(e.pass)}.`,
    '',
    table(
      ['pairs N', 'calls', 'emulator CPU per call', 'emulator CPU / flush time'],
      e.sizes.map((s) => [int(s.pairs), int(s.calls), `${int(s.cpuMicrosPerCall)} µs`, `${fixed(100 * s.cpuShareOfFlush, 1)} %`]),
    ),
  ];
}

function targets(data) {
  const rows = targetRows(data);
  const check = (r) => (r.pass === null ? 'reported' : `**${passFail(r.pass)}**`);
  const met = rows.filter((r) => r.pass === true).length;
  const checked = rows.filter((r) => r.pass !== null).length;
  return [
    '### Targets (issue #24)',
    '',
    `${met} of ${checked} checks met; \`npm run bench\` exits 1 when one misses. Each row from the sections below: what was measured, its baseline in the same run, their ratio, the target.`,
    '',
    table(['target', 'measured', 'baseline (same run)', 'ratio', 'target', 'check'], rows.map((r) => [r.target, r.measured, r.baseline, r.ratio, r.goal, check(r)])),
  ].join('\n');
}

const sections = { overhead, recording, persistence, flush };
const ORDER = ['overhead', 'recording', 'persistence', 'flush'];

function renderFigures(data) {
  return [targets(data), ...ORDER.filter((name) => data.suites[name] !== undefined).map((name) => sections[name](data.suites[name]))].join('\n\n');
}

/** Replaces what lies between the markers (or appends the markers and the figures). */
function spliceFigures(markdown, figures) {
  const block = `${START}\n${figures}\n${END}`;
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) return `${markdown.trimEnd()}\n\n${block}\n`;
  return `${markdown.slice(0, start)}${block}${markdown.slice(end + END.length)}`;
}

module.exports = { renderFigures, spliceFigures };
