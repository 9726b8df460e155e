import { customerKey, ErrorCodes, isMeterkitError, tagsKey } from '@meterkit/core';
import type { CustomerIdentity, UsageDelta } from '@meterkit/core';
import { DynamoDbStore } from '../src';
import type { DynamoDbStoreOptions } from '../src';
import { startBlackHole, type BlackHole } from '../../../tools/testing/black-hole/black-hole';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
const HOUR0 = Date.UTC(2026, 6, 15, 10);
let hole: BlackHole;
const stores: DynamoDbStore[] = [];

beforeAll(async () => {
  await dynamo.start();
  hole = await startBlackHole('127.0.0.1', Number(new URL(dynamo.endpoint).port));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  hole.heal();
});
afterAll(async () => {
  await hole.shutdown();
  await dynamo.stop();
});

const customer: CustomerIdentity = {
  kind: 'license',
  licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001',
  customerAwsAccountId: '100000000001',
  productCode: 'prod-x',
};

function delta(quantity: number): UsageDelta {
  return { customer, customerKey: customerKey(customer), productCode: 'prod-x', dimension: 'api_calls', hour: HOUR0, tagsKey: tagsKey(undefined), quantity };
}

/** A store whose client goes through the proxy in front of dynalite. */
async function storeBehindProxy(options: DynamoDbStoreOptions = {}): Promise<DynamoDbStore> {
  const store = new DynamoDbStore({
    tableName: dynamo.freshTableName('hung'),
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${hole.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // Far above what dynalite takes here, short enough for the test: calls the black hole swallows never answer.
    requestTimeoutMs: 1000,
    connectionTimeoutMs: 1000,
    maxAttempts: 2,
    ...options,
  });
  stores.push(store);
  await store.createTable();
  await store.open();
  return store;
}

it('a call to an endpoint that accepts the connection and never answers rejects with ERR_METERKIT_STORE (TimeoutError)', async () => {
  const store = await storeBehindProxy();
  hole.blackHole();
  const error = await store.addUsage([delta(4)], 'batch-1').catch((caught: unknown) => caught);
  expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
  expect(error).toMatchObject({ details: { awsError: 'TimeoutError' } });
  const read = await store.listRecords().catch((caught: unknown) => caught);
  expect(isMeterkitError(read, ErrorCodes.STORE)).toBe(true);
});

it('a write that timed out is written once when the engine retries its batch after the endpoint recovers', async () => {
  const store = await storeBehindProxy();
  hole.blackHole();
  await expect(store.addUsage([delta(4)], 'batch-1')).rejects.toMatchObject({ code: ErrorCodes.STORE });
  hole.heal();
  await store.addUsage([delta(4)], 'batch-1');
  await store.addUsage([delta(4)], 'batch-1');
  expect((await store.listRecords()).map((r) => r.quantity)).toEqual([4]);
});

it('refuses bad timeouts, and timeouts given with your own client, with ERR_METERKIT_OPTIONS', () => {
  const refused = (options: DynamoDbStoreOptions) => {
    try {
      new DynamoDbStore(options);
      return false;
    } catch (error) {
      return isMeterkitError(error, ErrorCodes.OPTIONS);
    }
  };
  for (const bad of [0, -1, 1.5, 600_001]) {
    expect(refused({ requestTimeoutMs: bad })).toBe(true);
    expect(refused({ connectionTimeoutMs: bad })).toBe(true);
  }
  expect(refused({ client: dynamo.client(), requestTimeoutMs: 1000 })).toBe(true);
  expect(refused({ client: dynamo.client(), connectionTimeoutMs: 1000 })).toBe(true);
});
