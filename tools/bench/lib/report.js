// Renders the figures of docs/benchmarks.json as the markdown between the bench markers of docs/benchmarks.md.
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (n, d = 2) => n.toFixed(d);
const millions = (n) => `${(n / 1e6).toFixed(2)} M`;
const signed = (n) => `${n >= 0 ? '+' : ''}${fixed(n, 1)} ms`;
const passFail = (ok) => (ok ? 'PASS' : 'FAIL');
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
  const storeName = { sqlite: 'SQLite', postgres: 'PostgreSQL', dynamodb: 'DynamoDB' }[entry.result.store ?? 'sqlite'] ?? entry.result.store;
  const rows = [];
  for (const f of frameworks) {
    const cpu = (v) => `${fixed(v.cpuMicrosPerRequest, 0)} µs`;
    const cpuDiff = (v) => `${cpu(v)} (${v.cpuMicrosPerRequest >= f.bare.cpuMicrosPerRequest ? '+' : ''}${fixed(v.cpuMicrosPerRequest - f.bare.cpuMicrosPerRequest, 0)})`;
    rows.push([f.framework, 'bare', int(f.bare.rps), `${fixed(f.bare.p99Ms, 0)} ms`, '1.00', '', cpu(f.bare), '']);
    rows.push([
      f.framework,
      `meterkit (${storeName}, interval)`,
      int(f.meterkit.rps),
      `${fixed(f.meterkit.p99Ms, 0)} ms`,
      `**${fixed(f.meterkit.ratio)}**`,
      signed(f.meterkit.p99DiffMs),
      cpuDiff(f.meterkit),
      `${f.meterkit.meetsTarget ? 'met' : '**short**'}; billing ${passFail(f.billing.pass)} (${int(f.billing.unitsStored)} units for ${int(f.billing.answered)}..${int(f.billing.sent)} requests)`,
    ]);
    if (f.reference !== null) {
      rows.push([f.framework, f.reference.name, int(f.reference.rps), `${fixed(f.reference.p99Ms, 0)} ms`, fixed(f.reference.ratio), signed(f.reference.p99DiffMs), cpuDiff(f.reference), 'reference']);
    }
  }
  const first = frameworks[0];
  const parts = [
    '### Request overhead per framework',
    '',
    commandLine(entry),
    `autocannon, ${first.connections} connections, ${first.rounds} rounds of ${first.seconds} s per variant, variants alternating; medians of the per-round ratio to bare. Target: meterkit ≥ ${targetRatio} and not below the reference.`,
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
  const { headToHead: h, growth, memory: m } = entry.result;
  return [
    '### Recording throughput (one process)',
    '',
    commandLine(entry),
    `${int(h.requests)} requests x ${h.recordsPerRequest} records for ${h.customers} customers, ${h.rounds} alternating rounds, median.`,
    '',
    table(
      ['path', 'records/s', 'vs baseline'],
      [
        ['hand-written Map counter, string key per record (baseline)', millions(h.baselineRecordsPerSecond), '1.00x'],
        ['meterkit: `meter(customer)` + 3 x `record()` + `commit()` per request', millions(h.meterkitRecordsPerSecond), `${fixed(h.ratio)}x`],
      ],
    ),
    '',
    table(['customers', 'meterkit records/s', 'vs 100 customers'], growth.map((g) => [int(g.customers), millions(g.recordsPerSecond), `${fixed(g.recordsPerSecond / growth[0].recordsPerSecond)}x`])),
    '',
    `Memory per live aggregate: **${int(m.bytesPerAggregate)} bytes** (heap delta ${fixed(m.heapDeltaBytes / 2 ** 20, 1)} MiB after \`gc()\` for ${int(m.aggregates)} aggregates: ${int(m.customers)} customers x ${m.dimensions} dimensions, ${int(m.recordsInMemory)} held in memory before persist).`,
  ].join('\n');
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
    `Increments/s with ${int(r.sqlite.at(-1).keys)} keys vs ${int(r.sqlite[0].keys)} keys: SQLite ${growth(r.sqlite)}, PostgreSQL ${growth(r.postgres)}.`,
  ].join('\n');
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
    table(['call rate', 'latency', 'pairs measured', 'flush time', 'calls/s', 'records/s', `time for N = ${int(n.pairs)}`, 'check'], speed),
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

const sections = { overhead, recording, persistence, flush };
const ORDER = ['overhead', 'recording', 'persistence', 'flush'];

function renderFigures(data) {
  return ORDER.filter((name) => data.suites[name] !== undefined).map((name) => sections[name](data.suites[name])).join('\n\n');
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
