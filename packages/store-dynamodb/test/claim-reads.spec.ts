import { customerKey, tagsKey } from '@meterkit/core';
import type { CustomerIdentity, UsageDelta } from '@meterkit/core';
import type { DynamoDbStore } from '../src';
import { PAGE_ITEMS } from '../src/table';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
const HOUR0 = Date.UTC(2026, 6, 15, 10);
let store: DynamoDbStore;

beforeAll(() => dynamo.start());
afterEach(() => store?.close());
afterAll(() => dynamo.stop());

function delta(n: number, hour: number): UsageDelta {
  const customer: CustomerIdentity = {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: 'prod-x',
  };
  return { customer, customerKey: customerKey(customer), productCode: 'prod-x', dimension: 'api_calls', hour, tagsKey: tagsKey(undefined), quantity: 1 };
}

/** Counts the items the store's queries bring back from DynamoDB. */
function countQueriedItems(target: DynamoDbStore): { items: number } {
  const counter = { items: 0 };
  target.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') counter.items += ((result.output as { Items?: unknown[] }).Items ?? []).length;
      return result;
    },
    { step: 'initialize', name: 'count-query-items' },
  );
  return counter;
}

it('claims a few pending records without reading every pending record', async () => {
  store = await dynamo.store('claim-reads');
  await store.open();
  const pending = 200;
  await store.addUsage(Array.from({ length: pending }, (_, i) => delta(i, HOUR0 + (i % 4) * 3_600_000)));
  const now = HOUR0 + 10 * 3_600_000;
  // The first claim freezes them all (reads every open record) and leases 5.
  const request = { now, dueBefore: now, owner: 'a', leaseMs: 60_000, limit: 5 };
  expect(await store.claim(request)).toHaveLength(5);

  const counter = countQueriedItems(store);
  const claimed = await store.claim(request);
  expect(claimed.map((r) => r.hour)).toEqual(Array(5).fill(HOUR0));
  // Records read: one page of pending records and the leased ones, not all 195 still pending.
  expect(counter.items).toBeLessThan(pending * 0.6);
}, 180_000);

/** The item count of every Query answer the store's client gets. */
function queryPageSizes(target: DynamoDbStore): number[] {
  const sizes: number[] = [];
  target.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') sizes.push(((result.output as { Items?: unknown[] }).Items ?? []).length);
      return result;
    },
    { step: 'initialize', name: 'query-page-sizes' },
  );
  return sizes;
}

it(`reads the unsettled records in pages of at most ${PAGE_ITEMS} items: the SDK parses each answer in one step of the event loop`, async () => {
  store = await dynamo.store('claim-pages');
  await store.open();
  const records = 2 * PAGE_ITEMS + 50;
  await store.addUsage(Array.from({ length: records }, (_, i) => delta(i, HOUR0)));
  const sizes = queryPageSizes(store);
  const now = HOUR0 + 2 * 3_600_000;
  const claimed = await store.claim({ now, dueBefore: now, owner: 'a', leaseMs: 60_000, limit: 500 });
  expect(claimed).toHaveLength(records);
  expect(Math.max(...sizes)).toBe(PAGE_ITEMS);
}, 180_000);
