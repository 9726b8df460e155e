import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createMetering, silentLogger, type Metering, type MeteringOptions } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { DynamoDbStore } from '@meterkit/store-dynamodb';
import serverless from 'serverless-http';
import { buildApi } from '../src/app';
import { DIMENSIONS, meteringOptions, PRODUCT_CODE } from '../src/config';
import { createSampleFlushHandler } from '../src/flush';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;

const TABLE = 'meterkit-sample';
let dynamo: Server;
let emu: Emulator;
const meterings: Metering[] = [];

beforeAll(async () => {
  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT_CODE, dimensions: DIMENSIONS }] });
  Object.assign(process.env, {
    METERKIT_TABLE: TABLE,
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    METERING_ENDPOINT: emu.endpoint,
    AWS_REGION: 'us-east-1',
  });
  const setup = meteringOptions().store as DynamoDbStore;
  await setup.createTable();
  await setup.close();
});
afterAll(async () => {
  for (const metering of meterings) await metering.close();
  await emu.close();
  await new Promise<void>((resolve) => dynamo.close(() => resolve()));
});

/** What every function of the test shares: the emulator's clock, no logs, quick retries. */
const testOptions: Partial<MeteringOptions> = {
  clock: () => emu.clock.now(),
  logger: silentLogger,
  retry: { baseDelayMs: 1, maxDelayMs: 5 },
  requestsPerSecond: 10,
};

/** An API Gateway HTTP API (payload 2.0) event. */
function httpEvent(method: string, path: string, apiKey: string, body?: unknown) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json', host: 'api.example.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: `req-${Math.random()}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date(emu.clock.now()).toISOString(),
      timeEpoch: emu.clock.now(),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body), isBase64Encoded: false }),
  };
}

const lambdaContext = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

/**
 * A scheduled invocation whose time runs out after `calls` BatchMeterUsage calls: its remaining time drops by one
 * second per call the emulator receives, so what a run sends does not depend on how fast this machine is.
 */
function invocationForCalls(calls: number, marginMs: number) {
  const made = () => emu.inspect.calls('BatchMeterUsage').length;
  const start = made();
  return { getRemainingTimeInMillis: () => marginMs + (calls - (made() - start)) * 1_000 };
}

it('bills usage recorded through API Gateway events exactly, flushed by short scheduled invocations', async () => {
  // Two "functions": the API and the flush, each with its own Metering, as in two Lambda functions.
  const apiMetering = createMetering(meteringOptions(testOptions));
  meterings.push(apiMetering);
  const buyers = await Promise.all(Array.from({ length: 30 }, () => emu.subscribe({ productCode: PRODUCT_CODE })));
  const apiKeys = new Map(buyers.map((_, i) => [`key-${i}`, `tenant-${i}`]));
  for (const [i, buyer] of buyers.entries()) {
    const customer = await apiMetering.putCustomer({
      identity: { kind: 'license', licenseArn: buyer.licenseArn ?? '', customerAwsAccountId: buyer.accountId, productCode: PRODUCT_CODE },
      status: 'active',
    });
    await apiMetering.linkTenant(customer.key, `tenant-${i}`);
  }
  const api = serverless(buildApi({ metering: apiMetering, apiKeys }));

  for (const [i] of buyers.entries()) {
    for (let call = 0; call <= i % 3; call++) {
      const res = (await api(httpEvent('GET', '/v1/reports', `key-${i}`), lambdaContext(3_000))) as { statusCode: number };
      expect(res.statusCode).toBe(200);
    }
    const res = (await api(httpEvent('POST', '/v1/exports', `key-${i}`, { rows: 10 * (i + 1) }), lambdaContext(3_000))) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(201);
  }
  const refused = (await api(httpEvent('GET', '/v1/reports', 'no-such-key'), lambdaContext(3_000))) as { statusCode: number };
  expect(refused.statusCode).toBe(401);

  // Each response left after its usage reached DynamoDB: a separate reader sees all of it now.
  const reader = meteringOptions().store as DynamoDbStore;
  await reader.open();
  const stored = (await reader.listRecords()).reduce((sum, record) => sum + record.quantity, 0);
  const expectedApiCalls = buyers.reduce((sum, _, i) => sum + (i % 3) + 2, 0);
  const expectedRows = buyers.reduce((sum, _, i) => sum + 10 * (i + 1), 0);
  expect(stored).toBe(expectedApiCalls + expectedRows);

  // The hour closes; each scheduled run has time for one BatchMeterUsage call and keeps 1 s: a run sends part.
  emu.clock.set(Date.parse('2026-07-15T11:20:00Z'));
  const flush = createSampleFlushHandler(testOptions, 1_000);
  const reports = [];
  for (let run = 0; run < 20; run++) {
    const report = await flush({ 'detail-type': 'Scheduled Event' }, invocationForCalls(1, 1_000));
    reports.push(report);
    if ((await reader.stats()).unsettledByHour.length === 0) break;
    emu.clock.set(emu.clock.now() + 2_000);
  }
  expect(reports.length).toBe(3);
  expect(reports[0]).toMatchObject({ sent: 25, released: 35 });

  for (const [i, buyer] of buyers.entries()) {
    const licenseArn = buyer.licenseArn ?? '';
    expect(emu.inspect.totalFor({ licenseArn, dimension: 'api_calls' })).toBe((i % 3) + 2);
    expect(emu.inspect.totalFor({ licenseArn, dimension: 'rows_exported' })).toBe(10 * (i + 1));
  }
  expect(emu.inspect.duplicates()).toEqual([]);
  expect(emu.inspect.records()).toHaveLength(60);
  await reader.close();
});
