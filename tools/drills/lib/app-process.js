// Starts the drill app (app/server.js) as a child process and controls it: SIGKILL, graceful stop, memory samples.
const { fork } = require('node:child_process');
const path = require('node:path');

const SERVER = path.join(__dirname, '..', 'app', 'server.js');

/** Forks the app with `config` and resolves once it listens: `{ url, child, samples, kill(), stop() }`. */
function startApp(config) {
  const child = fork(SERVER, [], {
    env: { ...process.env, MK_DRILL_APP: JSON.stringify(config) },
    // --expose-gc: memory samples are taken after a full collection, so they show live memory, not garbage.
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const samples = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the drill app did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`the drill app exited before it listened (code ${code})`)));
    child.on('message', (message) => {
      if (message.type === 'memory') samples.push(message);
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${message.port}`,
        child,
        samples,
        exited,
        /** SIGKILL: no shutdown code runs. */
        kill: () => {
          child.kill('SIGKILL');
          return exited;
        },
        /** SIGTERM: the app stops listening and close() persists its usage. */
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

module.exports = { startApp };
