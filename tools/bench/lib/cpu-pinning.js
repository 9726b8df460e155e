// Keeps the server under load on a core of its own: the load generator, the idle servers and the store processes the
// suite starts share the other cores. Throughput then measures the server's own cost rather than which processes
// the scheduler put beside it. Needs `taskset` (util-linux) and at least two cores; otherwise nothing is pinned.
const { execFileSync } = require('node:child_process');
const { availableParallelism } = require('node:os');

function tasksetWorks() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `pin(pid)` moves a process (every thread) to the measured core, `unpin(pid)` to the others. */
function cpuPinning() {
  const cores = availableParallelism();
  const enabled = process.env.BENCH_PIN !== '0' && cores >= 2 && tasksetWorks();
  const measured = String(cores - 1);
  const others = cores === 2 ? '0' : `0-${cores - 2}`;
  const set = (pid, cpus) => {
    if (enabled) execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  };
  return {
    enabled,
    describe: enabled ? `the server under load alone on core ${measured}, everything else on core${cores === 2 ? '' : 's'} ${others}` : 'not pinned',
    pin: (pid) => set(pid, measured),
    unpin: (pid) => set(pid, others),
  };
}

module.exports = { cpuPinning };
