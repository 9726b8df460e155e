const { execFileSync } = require('node:child_process');

/** Whether `command --version` runs: a measuring tool (perf, valgrind) is installed. */
function commandAvailable(command) {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = { commandAvailable };
