// Drill sizes. DRILLS_QUICK=1 runs a short smoke version (a few minutes on a shared 2-core machine).
const quick = process.env.DRILLS_QUICK === '1';

const full = {
  crash: { kills: 6, runMs: 6000, concurrency: 16, tenants: 5 },
  faults: { rounds: 3, tenants: 40, hours: 6, requestsPerSecond: 5 },
  time: { tenants: 10 },
  outage: { beforeMs: 3000, outageMs: 8000, afterMs: 3000, concurrency: 8, tenants: 4 },
  hung: { beforeMs: 3000, hangMs: 8000, afterMs: 3000, concurrency: 8, tenants: 4 },
  badInput: { registrationBodies: 4000, recordCalls: 10000 },
  load: { durationSec: 75, connections: 32, sampleMs: 3000 },
};

const smoke = {
  crash: { kills: 3, runMs: 3000, concurrency: 8, tenants: 3 },
  faults: { rounds: 1, tenants: 12, hours: 3, requestsPerSecond: 5 },
  time: { tenants: 4 },
  outage: { beforeMs: 1500, outageMs: 3000, afterMs: 1500, concurrency: 4, tenants: 3 },
  hung: { beforeMs: 1500, hangMs: 6000, afterMs: 1500, concurrency: 4, tenants: 3 },
  badInput: { registrationBodies: 1500, recordCalls: 3000 },
  load: { durationSec: 15, connections: 16, sampleMs: 1500 },
};

module.exports = { quick, sizes: quick ? smoke : full, pgUrl: process.env.METERKIT_TEST_PG_URL ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit' };
