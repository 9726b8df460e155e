// Workload sizes. BENCH_QUICK=1 shrinks every workload for smoke runs; the figures then only prove the harness.
const quick = process.env.BENCH_QUICK === '1';

const sizes = quick
  ? {
      quick,
      http: { rounds: 3, seconds: 1, warmupSeconds: 0.3, preloadSeconds: 0.2, connections: 10, tenants: 10 },
      recording: { requests: 100_000, rounds: 3, growthRequests: 50_000, growthCustomers: [100, 1_000, 10_000], meterForRequests: 200_000, meterForCustomers: [1_000, 100_000] },
      memory: { customers: 2_000, dimensions: 5 },
      persistence: { fewKeys: 100, fewBatches: 20, manyKeys: 10_000, manyBatches: 2 },
      flush: { pairs: [250, 2_500], quotaPairs: 250, latencyPairs: 250, target: 100_000, requestsPerPair: 10 },
    }
  : {
      quick,
      http: { rounds: 5, seconds: 3, warmupSeconds: 2, preloadSeconds: 1, connections: 10, tenants: 10 },
      recording: { requests: 2_000_000, rounds: 5, growthRequests: 1_000_000, growthCustomers: [100, 1_000, 10_000], meterForRequests: 2_000_000, meterForCustomers: [1_000, 100_000] },
      memory: { customers: 20_000, dimensions: 5 },
      persistence: { fewKeys: 100, fewBatches: 200, manyKeys: 100_000, manyBatches: 3 },
      flush: { pairs: [10_000, 100_000], quotaPairs: 2_500, latencyPairs: 10_000, target: 100_000, requestsPerPair: 10 },
    };

module.exports = { sizes };
