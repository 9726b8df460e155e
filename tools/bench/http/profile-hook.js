// Preloaded into a benchmark server by tools/bench/profile-http.js (`node -r`): 'prof-start' starts a CPU profile
// over IPC, { profStop: file } writes it, so that a profile covers the measured loads only, not start-up.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');

const session = new inspector.Session();
session.connect();
process.on('message', (message) => {
  if (message === 'prof-start') {
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 100 }, () => session.post('Profiler.start', () => process.send({ profiling: true }))),
    );
  } else if (typeof message === 'object' && message !== null && typeof message.profStop === 'string') {
    session.post('Profiler.stop', (error, result) => {
      if (error === null) writeFileSync(message.profStop, JSON.stringify(result.profile));
      process.send({ profiled: error === null });
    });
  }
});
