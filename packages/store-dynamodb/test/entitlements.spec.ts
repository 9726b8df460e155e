import { customerKey, ErrorCodes, isMeterkitError, tagsKey } from '@meterkit/core';
import type { EntitlementSet, IncludedUse, LicenseIdentity } from '@meterkit/core';
import fc from 'fast-check';
import { DynamoDbStore } from '../src';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
const stores: DynamoDbStore[] = [];
const HOUR = Date.UTC(2026, 6, 15, 10);

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

function license(n: number): LicenseIdentity {
  return {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: 'prod-x',
  };
}

function use(customer: LicenseIdentity, quantity: number, included: number, dimension = 'api_calls'): IncludedUse {
  return {
    delta: { customer, customerKey: customerKey(customer), productCode: customer.productCode, dimension, hour: HOUR, tagsKey: tagsKey(undefined), quantity },
    allowanceDimension: 'api_calls',
    periodStart: HOUR,
    included,
  };
}

function set(customer: LicenseIdentity, fetchedAt: number, seats: number): EntitlementSet {
  return { customerKey: customerKey(customer), productCode: customer.productCode, entitlements: [{ dimension: 'seats', value: seats, valueType: 'integer' }], fetchedAt, trigger: `event:${seats}` };
}

/** Every UpdateItem reaches DynamoDB twice, as when a retry follows an answer lost on the way back. */
function sendUpdatesTwice(store: DynamoDbStore): void {
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') await next(args);
      return next(args);
    },
    { step: 'initialize', name: 'send-twice' },
  );
}

/** Fails the calls of `command` after the first `succeed`, before they reach DynamoDB: the writer stops there. */
function failAfter(store: DynamoDbStore, command: string, succeed: number): void {
  let calls = 0;
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && ++calls > succeed) {
        throw Object.assign(new Error('injected failure'), { name: 'ValidationException', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: `fail-${command}` },
  );
}

async function meteredTotal(store: DynamoDbStore, customer: LicenseIdentity): Promise<number> {
  return (await store.listRecords({ customerKey: customerKey(customer) })).reduce((sum, r) => sum + r.quantity, 0);
}

async function counterTotal(store: DynamoDbStore, customer: LicenseIdentity): Promise<number[]> {
  return (await store.listAllowanceCounters(customerKey(customer))).map((c) => c.used);
}

describe('DynamoDbStore usage above what is included', () => {
  // Invariant: however batches from several instances interleave, whatever batches are written again under their id,
  // and with every update reaching DynamoDB twice on one instance, the counter holds each distinct batch's units once,
  // the records hold exactly what the applied calls answered as metered, and that is max(0, total − included).
  it('meters exactly the usage above the included units, once per batch id, under concurrent writers', async () => {
    const table = dynamo.freshTableName('ent');
    const handles = [await openStore(table), await openStore(table), await openStore(table)];
    sendUpdatesTwice(handles[2]!);
    let run = 0;
    const batch = fc.record({
      handle: fc.nat({ max: handles.length - 1 }),
      quantities: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }),
      resentBy: fc.option(fc.nat({ max: handles.length - 1 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 40 }), async (batches, included) => {
        const customer = license(1000 + run++);
        const calls = batches.flatMap((b, i) => {
          const uses = b.quantities.map((q) => use(customer, q, included));
          const call = (h: number) => () => handles[h]!.addUsageAboveIncluded([], uses, `run-${run}-b${i}`);
          return b.resentBy === undefined ? [call(b.handle)] : [call(b.handle), call(b.resentBy)];
        });
        const results = await Promise.all(calls.map((call) => call()));
        const total = batches.flatMap((b) => b.quantities).reduce((sum, q) => sum + q, 0);
        const applied = results.filter((r) => r.applied !== false);
        expect(applied).toHaveLength(batches.length);
        const metered = applied.flatMap((r) => r.metered).reduce((sum, m) => sum + m, 0);
        expect(metered).toBe(Math.max(0, total - included));
        await expect(counterTotal(handles[0]!, customer)).resolves.toEqual([total]);
        await expect(meteredTotal(handles[1]!, customer)).resolves.toBe(metered);
      }),
      { numRuns: 15 },
    );
  });

  // Invariant: a writer that stops anywhere after its journal (a crash, an outage) leaves a batch that the next claim
  // of any instance finishes exactly once, and the batch id written again afterwards changes nothing.
  it('finishes a batch interrupted after its journal once, at the next claim, wherever it stopped', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 6 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 20 }),
        async (updatesBeforeFailure, quantities, included) => {
          const table = dynamo.freshTableName(`crash-${run++}`);
          const customer = license(7);
          const plain = { ...use(customer, 2, 0, 'storage').delta };
          const uses = quantities.map((q, i) => use(customer, q, included, i % 2 === 0 ? 'api_calls' : 'api_calls_eu'));
          // The writer's hold on its batch lapses at once, as if it had crashed long ago.
          const writer = await openStore(table, { recoverBatchesAfterMs: 0 });
          failAfter(writer, 'UpdateItemCommand', updatesBeforeFailure);
          const outcome = await writer.addUsageAboveIncluded([plain], uses, 'batch-1').then(
            (result) => ({ result }),
            (error: unknown) => ({ error }),
          );
          if ('error' in outcome) expect(isMeterkitError(outcome.error, ErrorCodes.STORE)).toBe(true);

          const recoverer = await openStore(table, { recoverBatchesAfterMs: 0 });
          await recoverer.claim({ now: HOUR, dueBefore: HOUR, owner: 'b', leaseMs: 60_000, limit: 0 });
          const total = quantities.reduce((sum, q) => sum + q, 0);
          await expect(counterTotal(recoverer, customer)).resolves.toEqual([total]);
          await expect(meteredTotal(recoverer, customer)).resolves.toBe(2 + Math.max(0, total - included));

          await expect(recoverer.addUsageAboveIncluded([plain], uses, 'batch-1')).resolves.toEqual({ late: [], applied: false, metered: [] });
          await recoverer.claim({ now: HOUR, dueBefore: HOUR, owner: 'b', leaseMs: 60_000, limit: 0 });
          await expect(counterTotal(recoverer, customer)).resolves.toEqual([total]);
          await expect(meteredTotal(recoverer, customer)).resolves.toBe(2 + Math.max(0, total - included));
        },
      ),
      { numRuns: 12 },
    );
  });

  it('changes nothing and leaves the batch id free when its journal cannot be written', async () => {
    const table = dynamo.freshTableName('nojournal');
    const store = await openStore(table);
    failAfter(store, 'PutItemCommand', 0);
    const uses = [use(license(1), 12, 10)];
    const error = await store.addUsageAboveIncluded([], uses, 'batch-1').catch((caught: unknown) => caught);
    expect(isMeterkitError(error, ErrorCodes.STORE)).toBe(true);
    const healthy = await openStore(table);
    await expect(healthy.listAllowanceCounters(customerKey(license(1)))).resolves.toEqual([]);
    await expect(healthy.addUsageAboveIncluded([], uses, 'batch-1')).resolves.toMatchObject({ applied: true, metered: [2] });
  });
});

describe('DynamoDbStore entitlement sets', () => {
  // Invariant: the stored set is the first-arriving one of those fetched last, the one whose write answered true among them.
  it('keeps the newest set whatever order concurrent instances store them in', async () => {
    const table = dynamo.freshTableName('sets');
    const handles = [await openStore(table), await openStore(table), await openStore(table)];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ fetchedAt: fc.integer({ min: 0, max: 6 }), handle: fc.nat({ max: handles.length - 1 }) }), { minLength: 1, maxLength: 10 }), async (writes) => {
        const customer = license(5000 + run++);
        const sets = writes.map((w, i) => set(customer, HOUR + w.fetchedAt, i));
        const answers = await Promise.all(sets.map((s, i) => handles[writes[i]!.handle]!.putEntitlements(s)));
        const newest = Math.max(...sets.map((s) => s.fetchedAt));
        const winners = sets.filter((s, i) => answers[i] && s.fetchedAt === newest);
        expect(winners).toHaveLength(1);
        await expect(handles[2]!.getEntitlements(customerKey(customer))).resolves.toEqual(winners[0]);
      }),
      { numRuns: 15 },
    );
  });
});
