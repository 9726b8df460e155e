// The servers some suites need besides the app: the PostgreSQL server they find (or a reason to skip), and a dynalite
// in a process of its own (in the suite's process it would share autocannon's or the engines' event loop).
const { fork } = require('node:child_process');
const { join } = require('node:path');

const PG_URL = process.env.METERKIT_TEST_PG_URL ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit';

/** undefined when the PostgreSQL server answers; otherwise why the PostgreSQL rows are skipped. */
async function postgresAnswers() {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `no PostgreSQL server at METERKIT_TEST_PG_URL (${String(error.message ?? error)})`;
  } finally {
    await pool.end();
  }
}

/** A dynalite in a process of its own: its endpoint, and close(). */
async function startDynalite() {
  const child = fork(join(__dirname, '..', 'http', 'dynalite.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    child.once('message', resolve);
  });
  child.removeAllListeners('exit');
  return { endpoint: `http://127.0.0.1:${port}`, pid: child.pid, close: () => new Promise((resolve) => (child.once('exit', resolve), child.disconnect())) };
}

module.exports = { PG_URL, postgresAnswers, startDynalite };
