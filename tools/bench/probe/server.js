#!/usr/bin/env node
// tools/bench/http/server.js's Express server with engine options of the probe's choosing, for A/B runs of
// tools/bench/dynamodb-probe.js: `node tools/bench/probe/server.js express 'meterkit@dynamodb~tenantCacheMs=3600000'`
// runs the meterkit variant on DynamoDB with tenantCacheMs 3 600 000 (options after `~`, comma-separated integers).
// Without `~` (or `^`, below) it is tools/bench/http/server.js itself. Reports { port } over IPC and answers 'cpu' and 'stop' as it does.
const { join } = require('node:path');

const [framework, fullSpec, tenants = '10'] = process.argv.slice(2);
// `meterkit@dynamodb^<build>`: the DynamoDB store loaded from tools/bench/probe/dist/store-dynamodb-<build>/ (a
// build of another version of the store, made beforehand) instead of the package's dist, in the same run.
const [spec, storeBuild] = fullSpec.split('^');
if (storeBuild !== undefined) {
  const target = require.resolve('@meterkit/store-dynamodb');
  const other = require(join(__dirname, 'dist', `store-dynamodb-${storeBuild}`, 'index.js'));
  require.cache[target] = { id: target, filename: target, loaded: true, exports: other };
}
const [variant, optionList] = spec.split('~');
if (optionList !== undefined) {
  const overrides = Object.fromEntries(
    optionList.split(',').map((pair) => {
      const [name, value] = pair.split('=');
      return [name, Number(value)];
    }),
  );
  // server.js builds its engine with createMetering(): the overrides are merged into the options it passes.
  const core = require('@meterkit/core');
  const createMetering = core.createMetering;
  require.cache[require.resolve('@meterkit/core')].exports = { ...core, createMetering: (options) => createMetering({ ...options, ...overrides }) };
}
process.argv = [process.argv[0], join(__dirname, '..', 'http', 'server.js'), framework, variant, tenants];
require('../http/server.js');
