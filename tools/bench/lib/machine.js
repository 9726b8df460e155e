const os = require('node:os');

/** The machine a run was made on, written next to every figure. */
function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    quick: process.env.BENCH_QUICK === '1',
    date: new Date().toISOString(),
  };
}

module.exports = { machine };
