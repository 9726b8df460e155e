// Faults: closed hours of many tenants are sent while the emulator answers with throttling, 5xx, unprocessed
// records, lost answers, resets and latency at high rates. Totals must be exact, no DuplicateRecord, no record
// accepted twice, and BatchMeterUsage calls must stay within requestsPerSecond.
const { SqliteStore } = require('@meterkit/core');
const { startWorld, drillMetering, drain, compare, DIMENSIONS } = require('../lib/world');
const { dbFile } = require('../lib/files');

const HOUR = 3_600_000;
const FAULTS = { throttleRate: 0.2, serverErrorRate: 0.15, unprocessedRate: 0.2, lostAnswerRate: 0.05, resetRate: 0.03, latencyMs: 30 };

/** Most calls whose arrival falls in any window [t, t + 1 s). */
function maxPerSecond(times) {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

async function faultsDrill(size) {
  const start = Date.UTC(2026, 6, 15, 0, 20);
  const world = await startWorld({ tenantCount: size.tenants, now: start, seed: 42 });
  const metering = drillMetering(world, new SqliteStore({ path: dbFile('faults') }), { requestsPerSecond: size.requestsPerSecond });
  let unprocessed = 0;
  metering.on('unprocessed', ({ records }) => (unprocessed += records.length));
  const expected = new Map();
  const sendTimes = [];
  let sendingMs = 0;
  let flushes = 0;
  let left = 0;
  try {
    let quantity = 0;
    for (let round = 0; round < size.rounds; round++) {
      const firstHour = start + round * (size.hours + 2) * HOUR;
      for (let h = 0; h < size.hours; h++) {
        world.emu.clock.set(firstHour + h * HOUR);
        for (const tenant of world.tenantIds) {
          for (let commit = 0; commit < 3; commit++) {
            const meter = metering.meter(world.tenants[tenant]);
            for (const dimension of DIMENSIONS) {
              const units = 1 + (quantity++ % 97);
              meter.record(dimension, units);
              expected.set(`${tenant}|${dimension}`, (expected.get(`${tenant}|${dimension}`) ?? 0) + units);
            }
            await meter.commit();
          }
        }
      }
      // Every hour of the round is closed and past its lock: everything is due.
      world.emu.clock.set(firstHour + size.hours * HOUR + 15 * 60_000);
      world.emu.faults.set(FAULTS);
      const callsBefore = world.emu.inspect.calls('BatchMeterUsage').length;
      const t0 = Date.now();
      const drained = await drain(metering, { timeoutMs: 300_000 });
      flushes += drained.flushes;
      const status = drained.status;
      sendingMs += Date.now() - t0;
      left += status.inMemory + status.pending.reduce((n, p) => n + p.records, 0);
      world.emu.faults.set({ throttleRate: 0, serverErrorRate: 0, unprocessedRate: 0, lostAnswerRate: 0, resetRate: 0, latencyMs: 0 });
      sendTimes.push(world.emu.inspect.calls('BatchMeterUsage').slice(callsBefore).map((c) => c.at));
    }
    await metering.close();
    const result = compare(world, expected);
    const calls = world.emu.inspect.calls('BatchMeterUsage');
    const byOutcome = {};
    for (const call of calls) {
      const outcome = call.status === 200 ? 'ok' : call.status === 0 ? 'reset' : call.error ?? String(call.status);
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    }
    const peak = Math.max(...sendTimes.map((times) => maxPerSecond(times)));
    const mean = calls.length / (sendingMs / 1000);
    // Calls are spaced 1/rps apart when sent; network jitter can bring one arrival forward: one call of slack.
    const rateOk = peak <= size.requestsPerSecond + 1;
    const verdict = result.mismatches.length === 0 && result.duplicates === 0 && result.sentTwice === 0 && left === 0 && rateOk ? 'pass' : 'FAIL';
    const injected = Object.entries(byOutcome)
      .filter(([outcome]) => outcome !== 'ok')
      .map(([outcome, n]) => `${n} ${outcome}`)
      .concat(`${unprocessed} unprocessed records`, `${FAULTS.latencyMs} ms latency`);
    return {
      drill: `faults: ${size.rounds} round(s), ${calls.length} BatchMeterUsage calls`,
      runs: size.rounds,
      faults: injected.join(', '),
      records: result.records,
      expected: result.expectedUnits,
      accepted: result.acceptedUnits,
      loss: `${result.expectedUnits - result.acceptedUnits}; ${result.sentTwice} records accepted twice; peak ${peak} calls/s, mean ${mean.toFixed(1)}/s (limit ${size.requestsPerSecond}/s)`,
      duplicates: result.duplicates,
      verdict,
      details: { flushes, byOutcome, unprocessed, peakPerSecond: peak, meanPerSecond: Number(mean.toFixed(2)), sendingMs, unsentLeft: left },
    };
  } finally {
    await metering.close().catch(() => undefined);
    await world.emu.close();
  }
}

module.exports = { faultsDrill, maxPerSecond };
