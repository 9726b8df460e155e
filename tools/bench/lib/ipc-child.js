// A bench process of its own (the emulator, an engine), driven over IPC: `ask(op, args)` sends one step and resolves
// with the child's answer; a child that exits rejects what is still waiting.
const { fork } = require('node:child_process');

function forkIpcChild(file, name) {
  const child = fork(file, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let next = 0;
  const waiting = new Map();
  child.on('message', ({ id, value, error }) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (error === undefined) entry.resolve(value);
    else entry.reject(new Error(`${name} process: ${error}`));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  void exited.then((code) => {
    for (const entry of waiting.values()) entry.reject(new Error(`${name} process exited with ${code}`));
    waiting.clear();
  });
  const ask = (op, args) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ id, op, args });
    });
  return { ask, exited };
}

/** The child's side: answers each step with `ops[op](args)`'s value, or its error. */
function serveIpcSteps(ops) {
  process.on('message', async ({ id, op, args }) => {
    try {
      process.send({ id, value: (await ops[op](args)) ?? null });
    } catch (error) {
      process.send({ id, error: String(error?.stack ?? error) });
    }
  });
}

module.exports = { forkIpcChild, serveIpcSteps };
