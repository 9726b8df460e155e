import { customerKey, ErrorCodes, isMeterkitError, tagsKey } from '@meterkit/core';
import type { CustomerIdentity, UsageDelta } from '@meterkit/core';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../src';
import { BATCHES_PK, batchPartsPk } from '../src/table-layout';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
const stores: DynamoDbStore[] = [];
const HOUR0 = Date.UTC(2026, 6, 15, 10);

beforeAll(() => dynamo.start());
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => dynamo.stop());

async function openStore(table: string, options: ConstructorParameters<typeof DynamoDbStore>[0] = {}): Promise<DynamoDbStore> {
  const store = await dynamo.store(table, options);
  stores.push(store);
  await store.open();
  return store;
}

function license(n: number): CustomerIdentity {
  return { kind: 'license', licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`, customerAwsAccountId: String(100000000000 + n), productCode: 'prod-x' };
}

function delta(n: number, quantity: number, tags?: Record<string, string>): UsageDelta {
  const customer = license(n);
  return { customer, customerKey: customerKey(customer), productCode: 'prod-x', dimension: 'api_calls', hour: HOUR0, tagsKey: tagsKey(tags), ...(tags === undefined ? {} : { tags }), quantity };
}

/** Fails the calls of `command` that `shouldFail(call number)` picks, before they reach DynamoDB. */
function failCalls(store: DynamoDbStore, command: string, shouldFail: (call: number) => boolean): void {
  let calls = 0;
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && shouldFail(++calls)) {
        throw Object.assign(new Error('injected failure'), { name: 'ValidationException', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: `fail-${command}` },
  );
}

async function totals(store: DynamoDbStore): Promise<Map<string, number>> {
  return new Map((await store.listRecords()).map((record) => [record.customerKey, record.quantity]));
}

it('adds a batch reaching 300 records, tagged and untagged, in one call', async () => {
  const store = await openStore(dynamo.freshTableName('big'));
  const deltas = Array.from({ length: 300 }, (_, i) => [delta(i, i + 1), delta(i, 2, { team: 'a\u0000b' })]).flat();
  await expect(store.addUsage(deltas)).resolves.toEqual({ late: [] });
  const records = await store.listRecords();
  expect(records).toHaveLength(300);
  for (const record of records) {
    const n = Number(record.customerKey.slice(-32));
    expect(record.quantity).toBe(n + 3);
  }
  const [claimed] = await store.claim({ now: HOUR0 + 7_200_000, dueBefore: HOUR0 + 3_600_000, owner: 'a', leaseMs: 60_000, limit: 1 });
  expect(claimed?.frozen?.allocations).toEqual([{ quantity: 1 }, { tags: { team: 'a\u0000b' }, quantity: 2 }]);
});

/** The batch journal's items left in the table: headers (pk `B`) and parts (pk `B#<batch id>`). */
async function journalItems(store: DynamoDbStore, table: string): Promise<string[]> {
  const { Items = [] } = await store.client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return Items.map((item) => item['pk']?.S ?? '').filter((pk) => pk === BATCHES_PK || pk.startsWith(batchPartsPk('')));
}

// 100 deltas travel in the batch's header; 1,200 need part items.
it.each([
  ['journaled in its header', 100],
  ['journaled in parts', 1_200],
])('a multi-record write interrupted after its journal (%s) is finished once by the next claim, never counted twice', async (_how, records) => {
  const table = dynamo.freshTableName('crash');
  // The writer's hold on its batch lapses at once, as if it had crashed long ago.
  const writer = await openStore(table, { recoverBatchesAfterMs: 0 });
  // The first 40 record writes succeed, then DynamoDB refuses every write: the writer stops half-way.
  failCalls(writer, 'UpdateItemCommand', (call) => call > 40);
  const deltas = Array.from({ length: records }, (_, i) => delta(i, 5));
  await expect(writer.addUsage(deltas)).resolves.toEqual({ late: [] });
  const partial = await totals(writer);
  expect(partial.size).toBeGreaterThanOrEqual(40);
  expect(partial.size).toBeLessThan(records);

  const recoverer = await openStore(table, { recoverBatchesAfterMs: 0 });
  await recoverer.claim({ now: HOUR0, dueBefore: HOUR0, owner: 'b', leaseMs: 60_000, limit: 0 });
  const recovered = await totals(recoverer);
  expect(recovered.size).toBe(records);
  expect([...recovered.values()].every((quantity) => quantity === 5)).toBe(true);
  expect(await journalItems(recoverer, table)).toEqual([]);
  // A second recovery finds nothing left to do.
  await recoverer.claim({ now: HOUR0, dueBefore: HOUR0, owner: 'b', leaseMs: 60_000, limit: 0 });
  expect([...(await totals(recoverer)).values()].every((quantity) => quantity === 5)).toBe(true);
});

it.each([
  ['in its header', 10, 0],
  ['in parts', 1_200, 3],
])('a multi-record write journaled %s leaves no journal item once finished', async (_how, records, partItems) => {
  const table = dynamo.freshTableName('journal');
  const store = await openStore(table);
  const puts: string[] = [];
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutItemCommand') puts.push((args.input as { Item?: Record<string, { S?: string }> }).Item?.['pk']?.S ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'count-puts' },
  );
  await store.addUsage(Array.from({ length: records }, (_, i) => delta(i, 2)));
  expect(puts.filter((pk) => pk.startsWith(batchPartsPk('')))).toHaveLength(partItems);
  expect(puts.filter((pk) => pk === BATCHES_PK)).toHaveLength(1);
  expect(await journalItems(store, table)).toEqual([]);
  expect([...(await totals(store)).values()]).toEqual(Array.from({ length: records }, () => 2));
});

it('journals a batch whose deltas carry the largest tags AWS allows in parts under the item size limit', async () => {
  const table = dynamo.freshTableName('bigtags');
  const store = await openStore(table);
  // Five tags of the longest key and value each: about 4 KB of JSON per delta, 600 KB for the batch.
  const tags = (n: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: 5 }, (_, t) => [`${'k'.repeat(99)}${t}`, `${String(n).padStart(6, '0')}${'v'.repeat(250)}`]));
  const deltas = Array.from({ length: 150 }, (_, i) => delta(i, 3, tags(i)));
  await expect(store.addUsage(deltas)).resolves.toEqual({ late: [] });
  expect([...(await totals(store)).values()]).toEqual(Array.from({ length: 150 }, () => 3));
  expect(await journalItems(store, table)).toEqual([]);
});

it('a multi-record write that fails before its journal is complete changes nothing and fails', async () => {
  const store = await openStore(dynamo.freshTableName('nojournal'));
  failCalls(store, 'PutItemCommand', () => true);
  const error = await store.addUsage([delta(1, 1), delta(2, 1)]).catch((caught: unknown) => caught);
  expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
  expect((error as { details?: unknown }).details).toEqual({ awsError: 'ValidationException' });
  await expect(store.listRecords()).resolves.toEqual([]);
});

it('a write DynamoDB receives twice (a retry after a lost answer) is applied once', async () => {
  const store = await openStore(dynamo.freshTableName('retry'));
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') await next(args);
      return next(args);
    },
    { step: 'initialize', name: 'send-twice' },
  );
  await store.addUsage([delta(1, 4)]);
  await store.addUsage([delta(1, 3), delta(2, 1)]);
  expect(await totals(store)).toEqual(new Map([[customerKey(license(1)), 7], [customerKey(license(2)), 1]]));
});

/** Holds the UpdateItem calls `shouldHold(call number)` picks before they reach DynamoDB, until release(). */
function holdUpdates(store: DynamoDbStore, shouldHold: (call: number) => boolean): { release: () => void; held: () => number } {
  let calls = 0;
  const waiting: Array<() => void> = [];
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand' && shouldHold(++calls)) await new Promise<void>((resolve) => waiting.push(resolve));
      return next(args);
    },
    { step: 'initialize', name: 'hold-updates' },
  );
  return { release: () => waiting.splice(0).forEach((resolve) => resolve()), held: () => waiting.length };
}

it('regression: a retry of a batch still in flight when its first write completes is not applied again after a newer write to its record', async () => {
  // The engine retries a batch whose write did not answer within storeTimeoutMs under the same id, and that write
  // may still land while the retry is under way. Once the first write completed, the process's next write to the
  // record removed the batch's marker: the retry, reaching DynamoDB after it, found no marker and added the usage again.
  const store = await openStore(dynamo.freshTableName('inflight'));
  const gate = holdUpdates(store, (call) => call === 2);
  const first = store.addUsage([delta(1, 4)], 'batch-b');
  const retry = store.addUsage([delta(1, 4)], 'batch-b');
  await first;
  await store.addUsage([delta(1, 3)], 'batch-c');
  gate.release();
  await retry;
  expect(await totals(store)).toEqual(new Map([[customerKey(license(1)), 7]]));
});

it('open() fails with ERR_METERKIT_STORE when the table does not exist', async () => {
  const store = new DynamoDbStore({ tableName: 'missing-table', endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  stores.push(store);
  const error = await store.open().catch((caught: unknown) => caught);
  expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
  expect(String((error as Error).message)).toContain('createTable()');
});

it('refuses invalid options with ERR_METERKIT_OPTIONS', () => {
  const refused = (options: ConstructorParameters<typeof DynamoDbStore>[0]) => {
    try {
      new DynamoDbStore(options);
      return false;
    } catch (error) {
      return isMeterkitError(error, ErrorCodes.OPTIONS);
    }
  };
  expect(refused({ tableName: 'a' })).toBe(true);
  expect(refused({ client: dynamo.client(), endpoint: 'http://x' })).toBe(true);
  expect(refused({ settledTtlSeconds: 1 })).toBe(true);
});

it('settled records get an expiry for DynamoDB TTL when settledTtlSeconds is set', async () => {
  const table = dynamo.freshTableName('ttl');
  const store = await openStore(table, { settledTtlSeconds: 86_400 });
  await store.addUsage([delta(1, 1)]);
  const [claimed] = await store.claim({ now: HOUR0 + 7_200_000, dueBefore: HOUR0 + 3_600_000, owner: 'a', leaseMs: 60_000, limit: 10 });
  await store.settle([{ id: claimed?.id ?? '', state: 'sent' }], 'a', HOUR0 + 7_200_000);
  const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  const item = await store.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `R#${claimed?.id}` }, sk: { S: '#' } } }));
  expect(Number(item.Item?.expiresAt?.N)).toBe((HOUR0 + 7_200_000) / 1000 + 86_400);
  expect(item.Item?.us).toBeUndefined();
});

it('reads items journaled before the mayHaveLanded attribute existed as possibly at AWS, others not', async () => {
  const table = dynamo.freshTableName('landed');
  const store = await openStore(table);
  await store.addUsage([delta(1, 1), delta(2, 1)]);
  const claimed = await store.claim({ now: HOUR0 + 7_200_000, dueBefore: HOUR0 + 3_600_000, owner: 'a', leaseMs: 60_000, limit: 10 });
  const journaled = claimed.find((record) => record.customerKey === customerKey(license(1)))!.id;
  await store.journal([journaled], 'a', HOUR0 + 7_200_001);
  const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
  for (const record of claimed) {
    await store.client.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: `R#${record.id}` }, sk: { S: '#' } }, UpdateExpression: 'REMOVE mayHaveLanded' }));
  }
  const flags = new Map((await store.listRecords()).map((record) => [record.customerKey, [record.attempts, record.mayHaveLanded]]));
  expect(flags).toEqual(
    new Map([
      [customerKey(license(1)), [1, true]],
      [customerKey(license(2)), [0, false]],
    ]),
  );
});
