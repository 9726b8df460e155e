import fc from 'fast-check';
import { createMetering, customerKey, recordId, silentLogger, tagsKey } from '@meterkit/core';
import type { FrozenUsage, StoredRecord, Tags, UsageDelta } from '@meterkit/core';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbStore } from '../src';
import { TAG_UNITS_PER_RECORD, UNITS_ATTRIBUTE } from '../src/tag-budget';
import { TAG_SETS_PER_WRITE } from '../src/record-writes';
import { RECORD_SK, recordPk, unsettledKey } from '../src/table-layout';
import { fuzzParameters } from '../../core/test/generative/run';
import { LocalDynamo } from './support/dynalite';
import { scheduleUpdates } from './support/scheduled-updates';
import { licenseCustomer } from './support/license-customer';

// Invariant: however many tag sets usage carries, of whatever length, and however two instances' writes to one record
// interleave, every write is applied (none is refused for the record's size, which would hold all later usage back),
// the record's quantity is exactly what was written, its allocations sum to it, no tag set is credited more than was
// written with it (what a tag set is not credited is billed untagged, and the write answers it as untagged), and tag
// sets are billed untagged only once the record's budget is spent.

const dynamo = new LocalDynamo();
const HOUR0 = Date.UTC(2026, 6, 15, 10);
const customer = licenseCustomer;
const DAY = 86_400_000;

beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

function delta(quantity: number, tags?: Tags): UsageDelta {
  return { customer, customerKey: customerKey(customer), productCode: 'prod-x', dimension: 'api_calls', hour: HOUR0, tagsKey: tagsKey(tags), ...(tags === undefined ? {} : { tags }), quantity };
}

/** Five tags of AWS's longest keys (100) and values (256), numbered. */
function longestTags(n: number): Tags {
  return Object.fromEntries(Array.from({ length: 5 }, (_, t) => [`${'k'.repeat(99)}${t}`, `${String(n).padStart(6, '0')}${'v'.repeat(250)}`]));
}

function shortTags(n: number): Tags {
  return { user: `u${n}` };
}

async function withStores<T>(count: number, run: (stores: DynamoDbStore[]) => Promise<T>): Promise<T> {
  const table = dynamo.freshTableName('tags');
  const stores: DynamoDbStore[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const store = await dynamo.store(table);
      await store.open();
      stores.push(store);
    }
    return await run(stores);
  } finally {
    for (const store of stores) await store.close();
  }
}

async function frozenRecord(store: DynamoDbStore): Promise<StoredRecord> {
  const [record] = await store.claim({ now: HOUR0 + DAY, dueBefore: HOUR0 + DAY, owner: 'sender', leaseMs: 60_000, limit: 1 });
  if (record?.frozen === undefined) throw new Error('the record was not frozen');
  return record;
}

async function unitsOnRecord(store: DynamoDbStore, record: StoredRecord): Promise<number> {
  const { Item } = await store.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: { pk: { S: recordPk(record.id) }, sk: { S: RECORD_SK } }, ConsistentRead: true }),
  );
  return Item?.[UNITS_ATTRIBUTE]?.SS?.length ?? 0;
}

function taggedQuantities(frozen: FrozenUsage): Map<string, number> {
  return new Map(frozen.allocations.filter((a) => a.tags !== undefined).map((a) => [tagsKey(a.tags), a.quantity]));
}

function untaggedQuantity(frozen: FrozenUsage): number {
  return frozen.allocations.length === 0 ? frozen.quantity : (frozen.allocations.find((a) => a.tags === undefined)?.quantity ?? 0);
}

it("regression: a record keeps taking usage past the tag sets of AWS's longest tags its item can hold; the rest is billed untagged", async () => {
  // Before, a record's item held every tag set's tags twice under hex names: DynamoDB refused the write after about
  // 40 such tag sets ("Item size to update has exceeded the maximum allowed size"), persist() failed for good and
  // every later usage waited behind it.
  await withStores(1, async ([store]) => {
    let written = 0;
    const untagged: UsageDelta[] = [];
    for (let call = 0; call < 12; call++) {
      const deltas = Array.from({ length: 10 }, (_, i) => delta(1 + (i % 3), longestTags(call * 10 + i)));
      written += deltas.reduce((sum, d) => sum + d.quantity, 0);
      const result = await store!.addUsage(deltas);
      expect(result.late).toEqual([]);
      untagged.push(...(result.untagged ?? []));
    }
    // One call with 60 new tag sets: more than one update carries, so it is cut in two and journaled.
    const last = await store!.addUsage(Array.from({ length: 60 }, (_, i) => delta(2, longestTags(1_000 + i))));
    expect(last.late).toEqual([]);
    untagged.push(...(last.untagged ?? []));
    written += 120;
    const record = await frozenRecord(store!);
    expect(record.quantity).toBe(written);
    expect(record.frozen!.quantity).toBe(written);
    const tagged = taggedQuantities(record.frozen!);
    // 33 units each: 75 fit in 2,500, in the order they came (tags-key order within a call).
    expect([...tagged.keys()].sort()).toEqual(Array.from({ length: 75 }, (_, n) => tagsKey(longestTags(n))).sort());
    const taggedSum = [...tagged.values()].reduce((sum, q) => sum + q, 0);
    expect(untaggedQuantity(record.frozen!)).toBe(written - taggedSum);
    // Each call answered which of its deltas went untagged: exactly the tag sets the record does not hold.
    expect(untagged).toHaveLength(180 - tagged.size);
    expect(untagged.every((d) => !tagged.has(d.tagsKey))).toBe(true);
    expect(await unitsOnRecord(store!, record)).toBeLessThanOrEqual(TAG_UNITS_PER_RECORD);
  });
});

it('2,500 short tag sets on one record (AWS\'s most) stay tagged, written 500 at a time', async () => {
  await withStores(1, async ([store]) => {
    for (let call = 0; call < 5; call++) {
      await store!.addUsage(Array.from({ length: 500 }, (_, i) => delta(1, shortTags(call * 500 + i))));
    }
    const record = await frozenRecord(store!);
    expect(record.frozen!.allocations).toHaveLength(2_500);
    expect(record.frozen!.allocations.every((a) => a.tags !== undefined && a.quantity === 1)).toBe(true);
  });
});

it('a write with more tag sets than one update expression holds is cut into updates of at most 4 KB, each applied once', async () => {
  await withStores(1, async ([store]) => {
    const expressions: string[] = [];
    store!.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UpdateItemCommand') return next(args);
        expressions.push((args.input as { UpdateExpression: string }).UpdateExpression);
        // Every update reaches DynamoDB twice, as when the SDK resends after a lost answer.
        await next(args);
        return next(args);
      },
      { step: 'initialize', name: 'send-twice' },
    );
    const deltas = [delta(7), ...Array.from({ length: 3 * TAG_SETS_PER_WRITE + 1 }, (_, i) => delta(1, shortTags(i)))];
    await store!.addUsage(deltas);
    await store!.addUsage(deltas);
    store!.client.middlewareStack.remove('send-twice');
    expect(expressions.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...expressions.map((e) => Buffer.byteLength(e)))).toBeLessThanOrEqual(4_096);
    const record = await frozenRecord(store!);
    expect(record.quantity).toBe(2 * (7 + 3 * TAG_SETS_PER_WRITE + 1));
    expect(untaggedQuantity(record.frozen!)).toBe(2 * 7);
    expect([...taggedQuantities(record.frozen!).values()].every((q) => q === 2)).toBe(true);
  });
});

it('a final total with more tag sets than a record holds is stored with the rest untagged, and the same total again is unchanged', async () => {
  await withStores(1, async ([store]) => {
    const allocations = Array.from({ length: 120 }, (_, i) => ({ tags: longestTags(i), quantity: 2 }));
    const total = { customer, customerKey: customerKey(customer), productCode: 'prod-x', dimension: 'api_calls', hour: HOUR0, usage: { quantity: 240, allocations } };
    await expect(store!.setTotal(total, HOUR0)).resolves.toEqual({ outcome: 'created' });
    await expect(store!.setTotal(total, HOUR0)).resolves.toEqual({ outcome: 'unchanged' });
    const [record] = await store!.listRecords();
    expect(record!.frozen!.quantity).toBe(240);
    const tagged = taggedQuantities(record!.frozen!);
    expect(tagged.size).toBe(75);
    expect(untaggedQuantity(record!.frozen!)).toBe(240 - 2 * tagged.size);
  });
});

it('a record written by 0.1 (every tag set named by its hex) and then by this version counts each tag set once', async () => {
  await withStores(1, async ([store]) => {
    const long = longestTags(1);
    const short = shortTags(1);
    const id = recordId(customerKey(customer), 'api_calls', HOUR0);
    const hex = (tags: Tags | undefined) => Buffer.from(tagsKey(tags), 'utf8').toString('hex');
    await store!.client.send(
      new PutItemCommand({
        TableName: store!.tableName,
        Item: {
          pk: { S: recordPk(id) },
          sk: { S: RECORD_SK },
          id: { S: id },
          customerKey: { S: customerKey(customer) },
          productCode: { S: 'prod-x' },
          customer: { S: JSON.stringify(customer) },
          dimension: { S: 'api_calls' },
          hour: { N: String(HOUR0) },
          state: { S: 'open' },
          source: { S: 'metered' },
          attempts: { N: '0' },
          quantity: { N: '11' },
          version: { N: '3' },
          'a:': { N: '1' },
          [`a:${hex(long)}`]: { N: '4' },
          [`t:${hex(long)}`]: { S: JSON.stringify(long) },
          [`a:${hex(short)}`]: { N: '6' },
          [`t:${hex(short)}`]: { S: JSON.stringify(short) },
          us: { S: 'open' },
          uk: { S: unsettledKey(HOUR0, id) },
        },
      }),
    );
    await store!.addUsage([delta(2), delta(3, long), delta(5, short)]);
    const record = await frozenRecord(store!);
    expect(record.frozen).toEqual({
      quantity: 21,
      allocations: [{ quantity: 3 }, { tags: long, quantity: 7 }, { tags: short, quantity: 11 }].sort((a, b) =>
        tagsKey(a.tags) < tagsKey(b.tags) ? -1 : 1,
      ),
    });
  });
});

it('the engine warns when a persist counted usage untagged past the budget, with how many deltas and nothing else', async () => {
  const store = await dynamo.store(dynamo.freshTableName('engine-tags'));
  const warnings: Array<{ obj: object; msg?: string }> = [];
  const metering = createMetering({
    products: [{ productCode: 'prod-x', dimensions: ['api_calls'] }],
    store,
    aws: { region: 'us-east-1' },
    clock: () => HOUR0 + 60_000,
    logger: { ...silentLogger, warn: (obj, msg) => warnings.push({ obj, ...(msg === undefined ? {} : { msg }) }) },
    persistIntervalMs: 3_600_000,
    flushIntervalMs: 3_600_000,
  });
  metering.on('error', () => undefined);
  try {
    const meter = metering.meter(customer);
    for (let n = 0; n < 100; n++) meter.record('api_calls', 1, { tags: longestTags(n) });
    await meter.commit();
    await metering.persist();
    expect(warnings).toEqual([{ obj: { deltas: 25 }, msg: 'usage carried more tag sets than the store keeps per record; it is billed untagged' }]);
  } finally {
    await metering.close();
  }
});

/** Tag sets of three lengths: short (hex-named), a few hundred bytes, and AWS's longest. */
const tagSetArb = fc.oneof(
  fc.integer({ min: 0, max: 30 }).map(shortTags),
  fc.integer({ min: 0, max: 30 }).map((n): Tags => ({ team: `t${n}`, project: 'p'.repeat(200), env: `e${n % 3}` })),
  fc.integer({ min: 0, max: 120 }).map(longestTags),
);

/** A write: a few tag sets of any kind, and a run of consecutive longest ones, so that runs reach the budget. */
const writesArb = fc.array(
  fc.record({
    instance: fc.integer({ min: 0, max: 1 }),
    usage: fc.array(fc.record({ tags: fc.option(tagSetArb, { nil: undefined, freq: 6 }), quantity: fc.integer({ min: 0, max: 9 }) }), { minLength: 1, maxLength: 30 }),
    longest: fc.record({ from: fc.integer({ min: 0, max: 150 }), count: fc.integer({ min: 0, max: 45 }), quantity: fc.integer({ min: 1, max: 3 }) }),
  }).map(({ instance, usage, longest }) => ({
    instance,
    usage: [...usage, ...Array.from({ length: longest.count }, (_, i) => ({ tags: longestTags(longest.from + i), quantity: longest.quantity }))],
  })),
  { minLength: 1, maxLength: 8 },
);

it('generative: two instances writing tag sets of any length to one record, in any order, bill exactly; tags drop only past the budget', async () => {
  const parameters = fuzzParameters(6);
  process.stdout.write(`generative dynamodb tag budget: seed=${parameters.seed} runs=${parameters.numRuns}\n`);
  let budgetReached = 0;
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), writesArb, async (s, writes) =>
      withStores(3, async (stores) => {
        // Two writers; the third reads and freezes the record once they are done.
        for (const store of stores.slice(0, 2)) scheduleUpdates(store, s);
        const calls = writes.map((write, i) =>
          stores[write.instance]!.addUsage(write.usage.map((u) => delta(u.quantity, u.tags)), `batch-${i}`),
        );
        // Settled, not all: a refused write must not leave the other calls waiting on the scheduler.
        const outcomes = await s.waitFor(Promise.allSettled(calls));
        expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
        const written = new Map<string, number>();
        for (const write of writes) for (const u of write.usage) written.set(tagsKey(u.tags), (written.get(tagsKey(u.tags)) ?? 0) + u.quantity);
        const total = [...written.values()].reduce((sum, q) => sum + q, 0);
        const record = await frozenRecord(stores[2]!);
        expect(record.quantity).toBe(total);
        expect(record.frozen!.quantity).toBe(total);
        expect(record.frozen!.allocations.reduce((sum, a) => sum + a.quantity, 0)).toBe(record.frozen!.allocations.length === 0 ? 0 : total);
        const tagged = taggedQuantities(record.frozen!);
        for (const [key, quantity] of tagged) expect(quantity).toBeLessThanOrEqual(written.get(key) ?? -1);
        // The calls answered as untagged exactly what the record does not hold tagged (no answer is lost here).
        const answeredUntagged = new Map<string, number>();
        for (const outcome of outcomes) {
          if (outcome.status !== 'fulfilled') continue;
          for (const d of outcome.value.untagged ?? []) answeredUntagged.set(d.tagsKey, (answeredUntagged.get(d.tagsKey) ?? 0) + d.quantity);
        }
        for (const [key, quantity] of written) {
          if (key !== '') expect((tagged.get(key) ?? 0) + (answeredUntagged.get(key) ?? 0)).toBe(quantity);
        }
        const creditedTagged = [...tagged.values()].reduce((sum, q) => sum + q, 0);
        expect(untaggedQuantity(record.frozen!)).toBe(total - creditedTagged);
        const units = await unitsOnRecord(stores[2]!, record);
        expect(units).toBeLessThanOrEqual(TAG_UNITS_PER_RECORD);
        if (creditedTagged < total - (written.get('') ?? 0)) budgetReached += 1;
        // A tag set is billed untagged only when it did not fit: the record then holds more than the budget less
        // the largest tag set's units (33 for AWS's longest tags).
        if (units + 40 <= TAG_UNITS_PER_RECORD) {
          for (const [key, quantity] of written) if (key !== '' && quantity > 0) expect(tagged.get(key)).toBe(quantity);
        }
      }),
    ),
    parameters,
  );
  process.stdout.write(`generative dynamodb tag budget: ${budgetReached} of ${parameters.numRuns} runs billed tag sets untagged past the budget\n`);
}, 600_000);
