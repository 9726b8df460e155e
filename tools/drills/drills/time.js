// Time: the app records usage, goes down, and comes back after AWS's window has passed. BatchMeterUsage accepts a
// record for 24 h (MeterUsage: 6 h), so the drill is down 25 h: every record must end `expired` with an `expired`
// event and nothing may vanish. A second run is down 7 h, past MeterUsage's window but inside BatchMeterUsage's:
// everything must still be billed.
const { SqliteStore } = require('@meterkit/core');
const { startWorld, drillMetering, drain, compare, DIMENSIONS } = require('../lib/world');
const { dbFile } = require('../lib/files');

const HOUR = 3_600_000;

async function downFor(downMs, size) {
  const world = await startWorld({ tenantCount: size.tenants, now: Date.UTC(2026, 6, 15, 10, 20) });
  const path = dbFile('time');
  const expected = new Map();
  try {
    const before = drillMetering(world, new SqliteStore({ path }));
    let n = 0;
    for (const tenant of world.tenantIds) {
      for (const dimension of DIMENSIONS) {
        const units = 10 + n++;
        await before.meter(world.tenants[tenant]).record(dimension, units).commit();
        expected.set(`${tenant}|${dimension}`, units);
      }
    }
    await before.close();

    world.emu.clock.advance(downMs);
    const after = drillMetering(world, new SqliteStore({ path }));
    let expiredEvents = 0;
    after.on('expired', () => expiredEvents++);
    const { status } = await drain(after);
    await after.close();
    const result = compare(world, expected);
    const records = expected.size;
    const counted = Object.values(status.counts).reduce((a, b) => a + b, 0);
    return { world, result, records, expiredEvents, status, counted };
  } finally {
    await world.emu.close();
  }
}

async function timeDrill(size) {
  const past = await downFor(25 * HOUR, size);
  const inside = await downFor(7 * HOUR, size);
  const expiredOk =
    past.expiredEvents === past.records && past.status.counts.expired === past.records && past.counted === past.records && past.result.acceptedUnits === 0;
  const insideOk = inside.result.mismatches.length === 0 && inside.status.counts.sent === inside.records && inside.result.duplicates === 0;
  return [
    {
      drill: 'time: down 25 h (past the 24 h BatchMeterUsage window)',
      faults: 'emulator clock +25 h',
      records: past.records,
      expected: 0,
      accepted: past.result.acceptedUnits,
      loss: `${past.result.expectedUnits} units expired, reported: ${past.expiredEvents} expired events, status expired ${past.status.counts.expired} of ${past.records} records`,
      duplicates: past.result.duplicates,
      verdict: expiredOk ? 'pass' : 'FAIL',
      details: { counts: past.status.counts },
    },
    {
      drill: 'time: down 7 h (past MeterUsage 6 h, inside 24 h)',
      faults: 'emulator clock +7 h',
      records: inside.result.records,
      expected: inside.result.expectedUnits,
      accepted: inside.result.acceptedUnits,
      loss: String(inside.result.expectedUnits - inside.result.acceptedUnits),
      duplicates: inside.result.duplicates,
      verdict: insideOk ? 'pass' : 'FAIL',
      details: { counts: inside.status.counts },
    },
  ];
}

module.exports = { timeDrill };
