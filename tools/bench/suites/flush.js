#!/usr/bin/env node
// Flush economy and speed against the emulator, through the real AWS SDK client and the SQLite default store.
// N active (customer, dimension) pairs of one product are flushed once their hour closed: the number of
// BatchMeterUsage calls must be ceil(N / 25). Time is measured at the default send rate (AWS's quota of 10 calls/s
// with headroom: `requestsPerSecond` unset) and with the quota lifted, to show what the pipeline itself costs at
// 0 ms and 50 ms of injected latency. At the defaults, the check also requires that no sliding second of the
// emulator saw more than 10 calls and, without injected latency, that 100,000 pairs (4,000 calls) take within 5 %
// of the 400 s the quota allows. The emulator runs in a process of its own: its CPU time per BatchMeterUsage call at
// N and 10N pairs (with the quota lifted) must not grow with N, or the emulator would set a flush's pace. Last, the
// shared quota (lib/shared-quota-flush.js): three engines on one PostgreSQL store, then three on one DynamoDB store,
// flushing at once at the defaults, must together keep every sliding second of the emulator within 10 calls.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createMetering, silentLogger } = require('@meterkit/core');
const { startEmulatorProcess } = require('../lib/emulator-process');
const { runSuite } = require('../lib/child-result');
const { sharedQuotaBuyers, sharedQuotaFlush } = require('../lib/shared-quota-flush');
const { PRODUCT, DIMENSIONS, recordPairs } = require('../lib/fixtures');
const { sizes } = require('../lib/sizes');
const { timeIt } = require('../lib/stats');

const DIMS_PER_CUSTOMER = 10;
const BATCH = 25;
const QUOTA = 10;
/** 100,000 pairs at AWS's 10 calls/s: 4,000 calls in 400 s; the defaults must come within 5 % of it. */
const TARGET_SLACK = 0.05;
/** Calls at the default budget of 9.75/s go out 10 at once, then 10 per window: measure a few windows at least. */
const MIN_QUOTA_CALLS = 31;
const HOUR = Date.UTC(2026, 6, 15, 10);

/** Without the quota, the pipeline's own speed: `requestsPerSecond` above AWS's 10 is meant for emulators. */
const UNLIMITED = 10_000;
/** The emulator's CPU per call at 10N pairs against N: flat within this factor (a scan per record would be 10x). */
const EMULATOR_GROWTH_LIMIT = 1.5;

/** The most calls in any closed one-second interval (a sliding second, as a quota counts them). */
function mostInAnyClosedSecond(times) {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] > 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

async function scenario(emu, buyers, { pairs, latencyMs, quota }) {
  await emu.reset();
  await emu.setClock(HOUR + 5 * 60_000);
  await emu.setLatency(latencyMs);
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-bench-'));
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store: `sqlite:${join(dir, 'meterkit.db')}`,
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
    clock: emu.now,
    logger: silentLogger,
    autoStart: false,
    ...(quota ? {} : { requestsPerSecond: UNLIMITED }),
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
  });
  try {
    const requestsPerPair = sizes.flush.requestsPerPair;
    await recordPairs(metering, buyers, { pairs, requestsPerPair, dimsPerCustomer: DIMS_PER_CUSTOMER });
    await emu.setClock(HOUR + 71 * 60_000); // the hour closed and its 10-minute lock passed
    let report;
    const cpuBefore = await emu.cpuMicros();
    const seconds = await timeIt(async () => {
      report = await metering.flush();
    });
    const emulatorCpuSeconds = ((await emu.cpuMicros()) - cpuBefore) / 1e6;
    const { times: callTimes, billedUnits: billed } = await emu.batchCalls();
    const calls = callTimes;
    const expectedCalls = Math.ceil(pairs / BATCH);
    // The emulator's clock runs with wall time from where it was set: `at` spacing is real call spacing.
    const times = [...callTimes].sort((a, b) => a - b);
    const busiestSecond = mostInAnyClosedSecond(times);
    const withinQuota = !quota || busiestSecond <= QUOTA;
    // At the defaults the calls go out in bursts of QUOTA, one burst per window: the window is the time between the
    // starts of the second and the last full burst (the first call of a fresh client leaves late), and the last
    // burst's own spread comes on top.
    const lastBurst = Math.floor((times.length - 1) / QUOTA) * QUOTA;
    const windowMs = quota && lastBurst >= 2 * QUOTA ? (times[lastBurst] - times[QUOTA]) / (lastBurst / QUOTA - 1) : undefined;
    const burstSpreadMs = windowMs === undefined ? undefined : times.at(-1) - times[lastBurst];
    const pass = calls.length === expectedCalls && report.sent === pairs && billed === pairs * requestsPerPair && withinQuota;
    return {
      pairs,
      latencyMs,
      quota,
      requests: pairs * requestsPerPair,
      calls: calls.length,
      expectedCalls,
      sent: report.sent,
      billedUnits: billed,
      pass,
      seconds,
      callsPerSecond: calls.length / seconds,
      busiestSecond,
      withinQuota,
      windowMs,
      burstSpreadMs,
      recordsPerSecond: report.sent / seconds,
      emulatorCpuSeconds,
      emulatorCpuMicrosPerCall: calls.length === 0 ? 0 : (emulatorCpuSeconds * 1e6) / calls.length,
    };
  } finally {
    await metering.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runSuite(async () => {
  const { pairs, latencyPairs, target, requestsPerPair } = sizes.flush;
  const quotaPairs = Math.max(sizes.flush.quotaPairs, MIN_QUOTA_CALLS * BATCH);
  const largest = Math.max(...pairs, quotaPairs, latencyPairs);
  const emu = await startEmulatorProcess({ now: HOUR + 5 * 60_000, products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
  try {
    const buyers = await emu.subscribe(PRODUCT, Math.max(Math.ceil(largest / DIMS_PER_CUSTOMER), sharedQuotaBuyers(sizes.quick)));
    await scenario(emu, buyers, { pairs: 100, latencyMs: 0, quota: false }); // warm-up: SDK client, JIT, SQLite
    const economy = [];
    for (const n of pairs) economy.push(await scenario(emu, buyers, { pairs: n, latencyMs: 0, quota: false }));
    const lifted50 = await scenario(emu, buyers, { pairs: latencyPairs, latencyMs: 50, quota: false });
    const quota0 = await scenario(emu, buyers, { pairs: quotaPairs, latencyMs: 0, quota: true });
    const quota50 = await scenario(emu, buyers, { pairs: quotaPairs, latencyMs: 50, quota: true });
    const sharedQuota = await sharedQuotaFlush(emu, buyers, { quick: sizes.quick, requestsPerPair, hour: HOUR });
    const targetCalls = Math.ceil(target / BATCH);
    const naiveCalls = target * requestsPerPair;
    // The emulator's CPU per call, lifted rate and no latency, at the smallest and the largest N.
    const [small, large] = [economy[0], economy[economy.length - 1]];
    const emulatorGrowth = large.emulatorCpuMicrosPerCall / small.emulatorCpuMicrosPerCall;
    return {
      dimsPerCustomer: DIMS_PER_CUSTOMER,
      emulatorCpu: {
        sizes: [small, large].map((e) => ({ pairs: e.pairs, calls: e.calls, cpuMicrosPerCall: e.emulatorCpuMicrosPerCall, flushSeconds: e.seconds, cpuShareOfFlush: e.emulatorCpuSeconds / e.seconds })),
        growth: emulatorGrowth,
        limit: EMULATOR_GROWTH_LIMIT,
        pass: emulatorGrowth <= EMULATOR_GROWTH_LIMIT,
      },
      requestsPerPair,
      economy,
      sharedQuota,
      speed: [economy[economy.length - 1], lifted50, quota0, quota50].map((s) => {
        const targetSecondsExtrapolated =
          s.windowMs === undefined ? targetCalls / s.callsPerSecond : (Math.floor((targetCalls - 1) / QUOTA) * s.windowMs + s.burstSpreadMs) / 1000;
        // Without injected latency, the defaults must send N pairs within 5 % of what the quota allows.
        const targetSeconds = targetCalls / QUOTA;
        const withinTarget = !s.quota || s.latencyMs > 0 || Math.abs(targetSecondsExtrapolated - targetSeconds) <= TARGET_SLACK * targetSeconds;
        return {
          ...s,
          targetPairs: target,
          targetCalls,
          targetSecondsExtrapolated,
          targetSeconds,
          withinTarget,
          pass: s.pass && withinTarget,
          extrapolated: s.pairs !== target,
        };
      }),
      naive: {
        pairs: target,
        requests: naiveCalls,
        calls: naiveCalls,
        secondsAtQuota: naiveCalls / QUOTA,
        meterkitCalls: targetCalls,
        meterkitSecondsAtQuota: targetCalls / QUOTA,
      },
    };
  } finally {
    await emu.close();
  }
});
