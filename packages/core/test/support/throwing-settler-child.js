// A process of its own for a settler that breaks its contract and throws: the test runner reports an unhandled
// rejection in its own process as a failure, so this one collects it and prints what was settled and what was raised.
const { EventEmitter } = require('node:events');
const { settleOnFinish } = require('../../dist/index.js');

const log = [];
const rejections = [];
process.on('unhandledRejection', (reason) => rejections.push(reason instanceof Error ? reason.message : String(reason)));

const settler = {
  settle(name) {
    if (name === 'throws') throw new Error('settler broke its contract');
    log.push(name);
  },
};

setImmediate(() => {
  for (const name of ['before', 'throws', 'after']) {
    const response = new EventEmitter();
    settleOnFinish(response, settler, name, false);
    response.emit('finish');
  }
  setImmediate(() => setImmediate(() => process.stdout.write(JSON.stringify({ log, rejections }))));
});
