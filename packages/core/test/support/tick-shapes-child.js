// Run with --allow-natives-syntax --expose-gc: `engine` creates a Metering first, `none` does not. Queues enough
// ticks for process.nextTick to collect feedback, collects garbage while no tick is queued, queues a few more, and
// prints V8's view of nextTick (its feedback slots, one per key of the tick object's literal).
const { createMetering, silentLogger } = require('../../dist/index.js');

if (process.argv[2] === 'engine') {
  createMetering({
    products: [{ productCode: 'prod-tick-shapes', dimensions: ['api_calls'] }],
    store: 'memory',
    logger: silentLogger,
    autoStart: false,
    aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  });
}

const tick = () => new Promise((resolve) => process.nextTick(resolve));

(async () => {
  for (let i = 0; i < 2000; i++) await tick();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  for (let i = 0; i < 5; i++) await tick();
  %DebugPrint(process.nextTick);
})();
