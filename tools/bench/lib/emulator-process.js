// The emulator in a process of its own, driven over IPC: its CPU time is then its own, apart from the engine's and
// the SDK client's, so the bench can tell what each BatchMeterUsage call costs the emulator. Run as a script, this
// file is that process; required, it starts one and returns a handle.
const { forkIpcChild, serveIpcSteps } = require('./ipc-child');

/** The handle: the emulator's endpoint, its clock read synchronously, and the few steps the flush suite takes. */
async function startEmulatorProcess(options) {
  const { ask, exited } = forkIpcChild(__filename, 'emulator');
  // The emulated clock runs with real time from where it was last set: follow it from its last reading.
  let reading = { emulated: 0, real: 0 };
  const read = (emulated) => {
    reading = { emulated, real: Date.now() };
  };
  const { endpoint, now } = await ask('start', options);
  read(now);
  return {
    endpoint,
    now: () => reading.emulated + (Date.now() - reading.real),
    setClock: async (ms) => read(await ask('setClock', ms)),
    setLatency: (latencyMs) => ask('setLatency', latencyMs),
    reset: () => ask('reset'),
    /** `count` license buyers of `productCode`, as meterkit identities. */
    subscribe: (productCode, count) => ask('subscribe', { productCode, count }),
    /** The BatchMeterUsage calls' times (emulated ms) and the units the emulator billed. */
    batchCalls: () => ask('batchCalls'),
    /** The emulator process's CPU time so far (user + system, µs). */
    cpuMicros: () => ask('cpuMicros'),
    close: async () => {
      await ask('close');
      await exited;
    },
  };
}

async function serve() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { startEmulator } = require('@meterkit/emulator');
  let emu;
  const ops = {
    start: async (options) => {
      emu = await startEmulator(options);
      return { endpoint: emu.endpoint, now: emu.clock.now() };
    },
    setClock: (ms) => {
      emu.clock.set(ms);
      return emu.clock.now();
    },
    setLatency: (latencyMs) => emu.faults.set({ latencyMs }),
    reset: () => emu.reset(),
    subscribe: async ({ productCode, count }) => {
      const buyers = [];
      for (let i = 0; i < count; i++) {
        const s = await emu.subscribe({ productCode });
        buyers.push({ kind: 'license', licenseArn: s.licenseArn, customerAwsAccountId: s.accountId, productCode });
      }
      return buyers;
    },
    batchCalls: () => ({
      times: emu.inspect.calls('BatchMeterUsage').map((c) => c.at),
      billedUnits: emu.inspect.records().reduce((sum, r) => sum + r.quantity, 0),
    }),
    cpuMicros: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    close: async () => {
      await emu?.close();
      setImmediate(() => process.disconnect());
    },
  };
  serveIpcSteps(ops);
}

if (require.main === module) serve();

module.exports = { startEmulatorProcess };
