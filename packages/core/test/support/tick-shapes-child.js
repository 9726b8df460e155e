// Run with --allow-natives-syntax --expose-gc: `engine` creates a Metering first, `adapter-in-context` makes the
// call every adapter makes when it is created (watchServerResponses) inside an AsyncLocalStorage context, `none`
// neither. Queues enough ticks for process.nextTick to collect feedback, collects garbage while no tick is queued,
// queues a few more, and prints V8's view of nextTick (its feedback slots, one per key of the tick object's literal),
// then whether the context's store was collected.
const { AsyncLocalStorage } = require('node:async_hooks');
const { createMetering, silentLogger, watchServerResponses } = require('../../dist/index.js');

const mode = process.argv[2];
const createEngine = () =>
  createMetering({
    products: [{ productCode: 'prod-tick-shapes', dimensions: ['api_calls'] }],
    store: 'memory',
    logger: silentLogger,
    autoStart: false,
    aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  });

let store;
if (mode === 'engine') createEngine();
if (mode === 'adapter-in-context') {
  const context = { request: 'the one the adapter was created in' };
  store = new WeakRef(context);
  new AsyncLocalStorage().run(context, watchServerResponses);
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

(async () => {
  for (let i = 0; i < 2000; i++) await tick();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  for (let i = 0; i < 5; i++) await tick();
  %DebugPrint(process.nextTick);
  process.stdout.write(`\nCONTEXT_STORE ${store === undefined ? 'none' : store.deref() === undefined ? 'collected' : 'kept'}\n`);
})();
