// Preloaded into a benchmark server (`node -r`) by tools/bench/dynamodb-probe.js: 'probe' over IPC answers what the
// process did since it started: CPU time (per thread), garbage-collection time and count by kind, heap, outgoing HTTP
// requests by operation, the DynamoDB commands sent (by the code that sent them, with their attempts and wall time),
// the store's tenant lookups since the last 'probe', timers armed (PROBE_TIMERS=1), and event-loop utilization.
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const diagnostics = require('node:diagnostics_channel');

const gc = { ms: 0, count: 0, byKind: {} };
const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail?.kind ?? entry.kind] ?? 'other';
    gc.ms += entry.duration;
    gc.count += 1;
    gc.byKind[kind] = (gc.byKind[kind] ?? 0) + entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const outgoing = {};
diagnostics.subscribe('http.client.request.start', ({ request }) => {
  const target = request.getHeader('x-amz-target');
  const operation = target === undefined ? `${request.method} ${request.host}` : String(target).split('.').pop();
  outgoing[operation] = (outgoing[operation] ?? 0) + 1;
});

// DynamoDB commands sent, by command and by the meterkit functions on the stack that sent them (the store's own
// frames, and the engine's above them).
const sends = {};
/** By command and outcome: calls, SDK attempts (retries included), wall time from send() to its answer. */
const calls = {};
try {
  const { DynamoDBClient } = require(require.resolve('@aws-sdk/client-dynamodb', { paths: [process.cwd()] }));
  const send = DynamoDBClient.prototype.send;
  DynamoDBClient.prototype.send = function countedSend(command, ...rest) {
    const frames = (new Error().stack ?? '')
      .split('\n')
      .filter((line) => line.includes('/packages/') || line.includes('/store-dynamodb-'))
      .map((line) => line.trim().replace(/^at (async )?/, '').split(' ')[0].replace(/^.*\/(packages|dist)\//, ''))
      .slice(0, 4)
      .join(' < ');
    const key = `${command.constructor.name} from ${frames || '(no meterkit frame)'}`;
    sends[key] = (sends[key] ?? 0) + 1;
    const started = performance.now();
    const settle = (outcome, attempts) => {
      const name = `${command.constructor.name} ${outcome}`;
      const entry = (calls[name] ??= { count: 0, attempts: 0, wallMs: 0, maxWallMs: 0 });
      const wall = performance.now() - started;
      entry.count += 1;
      entry.attempts += attempts ?? 1;
      entry.wallMs += wall;
      entry.maxWallMs = Math.max(entry.maxWallMs, wall);
    };
    const sent = send.call(this, command, ...rest);
    sent.then(
      (out) => settle('ok', out?.$metadata?.attempts),
      (error) => settle(error?.name ?? 'error', error?.$metadata?.attempts),
    );
    return sent;
  };
} catch {
  // No DynamoDB client here.
}

// The store's tenant lookups, when each started and ended (ms since the hook loaded) and how: the request path reads
// a tenant's customer when its cached answer expired (tenantCacheMs) or was never cached.
const lookups = [];
try {
  const { DynamoDbStore } = require(require.resolve('@meterkit/store-dynamodb', { paths: [process.cwd()] }));
  const find = DynamoDbStore.prototype.findCustomerByTenant;
  DynamoDbStore.prototype.findCustomerByTenant = function timedFind(tenantId) {
    const entry = { tenantId, startMs: Math.round(performance.now()) };
    lookups.push(entry);
    const found = find.call(this, tenantId);
    found.then(
      () => (entry.endMs = Math.round(performance.now())),
      (error) => ((entry.endMs = Math.round(performance.now())), (entry.error = String(error?.code ?? error))),
    );
    return found;
  };
} catch {
  // No DynamoDB store here.
}

// With PROBE_TIMERS=1: timers by the first frame outside node's internals that armed them (counting only: the callbacks are untouched).
const timers = {};
const sourceOf = () => {
  const lines = (new Error().stack ?? '').split('\n').slice(3);
  const frame = lines.find((line) => !line.includes('node:') && !line.includes('server-hook.js')) ?? lines[0] ?? '';
  return frame.trim().replace(/^at /, '').replace(/.*node_modules\//, '').replace(/.*\/(packages|tools)\//, '$1/');
};
if (process.env.PROBE_TIMERS === "1") for (const name of ['setTimeout', 'setInterval', 'setImmediate']) {
  const original = globalThis[name];
  globalThis[name] = function counted(...args) {
    const key = `${name} ${sourceOf()}`;
    timers[key] = (timers[key] ?? 0) + 1;
    return original.apply(this, args);
  };
}

/** CPU ms of the main thread and of the others (Linux: /proc/self/task): V8's workers (concurrent GC), libuv's pool. */
function threadCpu() {
  const { readdirSync, readFileSync } = require('node:fs');
  const byName = {};
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of the stat line, in clock ticks (100 per second).
      const key = Number(tid) === process.pid ? 'main thread' : `other threads (${name})`;
      byName[key] = (byName[key] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10;
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return byName;
}

const started = performance.eventLoopUtilization();
process.on('message', (message) => {
  if (message !== 'probe') return;
  const { user, system } = process.cpuUsage();
  const { heapUsed, rss } = process.memoryUsage();
  process.send({
    probe: true,
    cpuMicros: user + system,
    gc: { ms: gc.ms, count: gc.count, byKind: { ...gc.byKind } },
    heapUsed,
    rss,
    outgoing: { ...outgoing },
    sends: { ...sends },
    lookups: lookups.splice(0),
    calls: JSON.parse(JSON.stringify(calls)),
    timers: { ...timers },
    threads: threadCpu(),
    elu: performance.eventLoopUtilization(started).utilization,
  });
});
