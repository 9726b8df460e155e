// Bad input: thousands of generated requests against the registration route (random bytes, huge bodies, wrong
// content types, compressed bodies, unicode, repeated fields, JSON, empty) and invalid values passed to record().
// No 5xx, no crash, every refusal a typed ERR_METERKIT_* error, and the valid record next to each invalid one billed.
const http = require('node:http');
const express = require('express');
const { mulberry32 } = require('@meterkit/emulator');
const { MemoryStore, isMeterkitError } = require('@meterkit/core');
const { meterkit } = require('@meterkit/express');
const { startWorld, drillMetering, settle, compare, PRODUCT } = require('../lib/world');

const PATH = '/marketplace/register';
const TOKEN = 'x-amzn-marketplace-token';

function post(port, { body, headers }) {
  return new Promise((resolve) => {
    const defined = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
    const req = http.request({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers: defined }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (error) => resolve({ status: 0, body: String(error) }));
    req.end(body);
  });
}

/** One generated registration request. `validToken` is a real one, used now and then. */
function generateRequest(random, validToken) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const printable = (n) => Array.from({ length: n }, () => String.fromCharCode(33 + Math.floor(random() * 94))).join('');
  const unicode = (n) => Array.from({ length: n }, () => pick(['é', '漢', '🙂', '\u0000', '\u202e', 'ß', '\uffff', 'a'])).join('');
  const form = 'application/x-www-form-urlencoded';
  const kind = pick(['random-bytes', 'huge', 'content-type', 'unicode', 'repeated', 'json', 'empty', 'gzip', 'printable-token', 'long-token', 'charset', 'headers', 'valid']);
  switch (kind) {
    case 'random-bytes':
      return { kind, headers: { 'content-type': form }, body: bytes(1 + Math.floor(random() * 2000)) };
    case 'huge':
      return { kind, headers: { 'content-type': form }, body: `${TOKEN}=${'A'.repeat(pick([17_000, 100_000, 1_000_000]))}` };
    case 'content-type':
      return { kind, headers: { 'content-type': pick(['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', '', 'x/y; a=b']) }, body: `${TOKEN}=${printable(40)}` };
    case 'unicode':
      return { kind, headers: { 'content-type': form }, body: `${TOKEN}=${encodeURIComponent(unicode(1 + Math.floor(random() * 60))).replace(/%00/g, '%00')}` };
    case 'repeated':
      return { kind, headers: { 'content-type': form }, body: Array.from({ length: 2 + Math.floor(random() * 30) }, () => `${TOKEN}=${printable(20)}`).join('&') };
    case 'json':
      return { kind, headers: { 'content-type': pick([form, 'application/json']) }, body: JSON.stringify({ [TOKEN]: pick([printable(30), 42, null, [1, 2], { a: 1 }]) }) };
    case 'empty':
      return { kind, headers: { 'content-type': pick([form, undefined]) }, body: pick(['', `${TOKEN}=`, '&&&', '=']) };
    case 'gzip':
      return { kind, headers: { 'content-type': form, 'content-encoding': pick(['gzip', 'deflate', 'br', 'identity, gzip']) }, body: bytes(200) };
    case 'printable-token':
      return { kind, headers: { 'content-type': form }, body: `${TOKEN}=${encodeURIComponent(printable(1 + Math.floor(random() * 400)))}` };
    case 'long-token':
      return { kind, headers: { 'content-type': form }, body: `${TOKEN}=${'b'.repeat(4096 + Math.floor(random() * 2000))}` };
    case 'charset':
      return { kind, headers: { 'content-type': `${form}; charset=${pick(['utf-16', 'koi8-r', 'ISO-8859-1', 'utf-8', '"weird"'])}` }, body: `${TOKEN}=${printable(30)}` };
    case 'headers':
      return {
        kind,
        headers: { 'content-type': form, 'x-forwarded-for': printable(50), cookie: printable(3000), 'user-agent': printable(200), 'x-amzn-marketplace-token': printable(30) },
        body: `other=${printable(10)}`,
      };
    default:
      return { kind, headers: { 'content-type': form }, body: `${TOKEN}=${encodeURIComponent(validToken)}` };
  }
}

/** Invalid arguments for record(): each breaks exactly one rule, next to a valid record. */
function invalidRecord(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const badQuantity = () => pick(['5', NaN, -1, -0.5, 1.5, 2 ** 31, Infinity, -Infinity, 1e300, null, {}, [], true, '1e3', Number.MAX_SAFE_INTEGER]);
  const badDimension = () => pick(['API_CALLS', '', ' api_calls', 'api_calls ', 'x'.repeat(300), '漢字', null, 42, {}, 'unknown_dimension']);
  const badTags = () =>
    pick([
      {},
      { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6' },
      { ['k'.repeat(101)]: 'v' },
      { k: 'v'.repeat(257) },
      { k: 'v[1]' },
      { k: '' },
      { '': 'v' },
      { k: 5 },
      'tags',
      [['k', 'v']],
      null,
      { 'ünï': 'v' },
    ]);
  const rule = pick(['quantity', 'dimension', 'tags']);
  if (rule === 'quantity') return ['gb_processed', badQuantity()];
  if (rule === 'dimension') return [badDimension(), 1];
  return ['gb_processed', 1, { tags: badTags() }];
}

async function badInputDrill(size) {
  const world = await startWorld({ tenantCount: 1 });
  const metering = drillMetering(world, new MemoryStore());
  const middleware = meterkit(metering, {
    identify: () => undefined,
    start: false,
    // The limiter would answer most of the fuzz with 429; it is exercised separately at the end.
    registration: { path: PATH, rateLimitPerMinute: 0 },
  });
  const app = express();
  app.use(middleware);
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = server.address().port;
  const random = mulberry32(2026);
  const statuses = {};
  const untyped = [];
  const kinds = {};
  try {
    const { token } = await world.emu.subscribe({ productCode: PRODUCT });
    for (let i = 0; i < size.registrationBodies; i += 8) {
      const batch = Array.from({ length: Math.min(8, size.registrationBodies - i) }, () => generateRequest(random, token));
      const answers = await Promise.all(batch.map((r) => post(port, r)));
      answers.forEach((answer, j) => {
        const kind = batch[j].kind;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status >= 400 || answer.status === 0) {
          let code;
          try {
            code = JSON.parse(answer.body).error?.code;
          } catch {
            code = undefined;
          }
          if (typeof code !== 'string' || !code.startsWith('ERR_METERKIT_')) untyped.push({ kind, status: answer.status, body: answer.body.slice(0, 120) });
        }
      });
    }
    const fiveHundreds = Object.entries(statuses).filter(([s]) => Number(s) >= 500 || Number(s) === 0).reduce((n, [, c]) => n + c, 0);

    // record(): a valid record and an invalid one in each request meter.
    const customer = world.tenants.t0;
    const codes = {};
    const accepted = [];
    for (let i = 0; i < size.recordCalls; i++) {
      const meter = metering.meter(customer);
      meter.record('api_calls', 1);
      const args = invalidRecord(random);
      try {
        meter.record(...args);
        accepted.push(args);
      } catch (error) {
        const code = isMeterkitError(error) ? error.code : `untyped ${error?.name}`;
        codes[code] = (codes[code] ?? 0) + 1;
      }
      await meter.commit();
    }
    world.emu.clock.advance(2 * 3_600_000);
    await settle(metering);
    const result = compare(world, new Map([['t0|api_calls', size.recordCalls]]));
    const untypedRecord = Object.keys(codes).filter((c) => !c.startsWith('ERR_METERKIT_'));
    const ok = fiveHundreds === 0 && untyped.length === 0 && untypedRecord.length === 0 && accepted.length === 0 && result.mismatches.length === 0;
    return {
      drill: 'bad input: registration route fuzz + invalid record() values',
      runs: 1,
      faults: `${size.registrationBodies} generated requests, ${size.recordCalls} invalid record() calls`,
      records: result.records,
      expected: result.expectedUnits,
      accepted: result.acceptedUnits,
      loss: `${result.expectedUnits - result.acceptedUnits}; ${fiveHundreds} 5xx or dropped connections, ${untyped.length} untyped refusals, ${accepted.length} invalid values accepted`,
      duplicates: result.duplicates,
      verdict: ok ? 'pass' : 'FAIL',
      details: { statuses, kinds, recordErrorCodes: codes, untyped: untyped.slice(0, 3), accepted: accepted.slice(0, 3) },
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await metering.close().catch(() => undefined);
    await world.emu.close();
  }
}

module.exports = { badInputDrill };
