import fc from 'fast-check';
import { customerKey, tagsKey } from '@meterkit/core';
import type { UsageDelta } from '@meterkit/core';
import { LocalDynamo } from './support/dynalite';
import { scheduleUpdates } from './support/scheduled-updates';
import { licenseCustomer } from './support/license-customer';

// Invariant: however the engine's calls of a batch id overlap (a retry started while the first write may still land)
// and in whatever order their record writes reach DynamoDB, each batch adds its usage to its record once.

const dynamo = new LocalDynamo();
const HOUR0 = Date.UTC(2026, 6, 15, 10);
const customer = licenseCustomer;

beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

function delta(quantity: number, hour = HOUR0): UsageDelta {
  return { customer, customerKey: customerKey(customer), productCode: 'prod-x', dimension: 'api_calls', hour, tagsKey: tagsKey(undefined), quantity };
}

const batchesArb = fc.array(
  fc.record({
    quantity: fc.integer({ min: 1, max: 9 }),
    /** Calls of the batch started while its first one is under way (the engine's retries after a timeout). */
    retries: fc.integer({ min: 0, max: 2 }),
    /** Two records (hours): the write is journaled as a batch and applied record by record. */
    twoRecords: fc.boolean(),
  }),
  { minLength: 1, maxLength: 4 },
);

it('each batch adds its usage once, whatever its overlapping retries and the order their writes land in', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), batchesArb, async (s, batches) => {
      const store = await dynamo.store(dynamo.freshTableName('retries'));
      try {
        await store.open();
        scheduleUpdates(store, s);
        const calls: Promise<unknown>[] = [];
        for (const [i, batch] of batches.entries()) {
          const deltas = batch.twoRecords ? [delta(batch.quantity), delta(batch.quantity, HOUR0 + 3_600_000)] : [delta(batch.quantity)];
          const mine = Array.from({ length: 1 + batch.retries }, () => store.addUsage(deltas, `batch-${i}`));
          calls.push(...mine);
          // The engine moves on to its next batch once one call of this one answered; the others may still land.
          await s.waitFor(Promise.race(mine));
        }
        await s.waitFor(Promise.all(calls));
        const expected = batches.reduce((sum, batch) => sum + batch.quantity, 0);
        const records = await store.listRecords();
        expect(records.find((r) => r.hour === HOUR0)?.quantity).toBe(expected);
        const second = batches.filter((batch) => batch.twoRecords).reduce((sum, batch) => sum + batch.quantity, 0);
        expect(records.find((r) => r.hour === HOUR0 + 3_600_000)?.quantity ?? 0).toBe(second);
      } finally {
        await store.close();
      }
    }),
    { numRuns: 60 },
  );
});

it('regression (shrunk): two calls of one batch, the first answering first, then a batch to the same record, then the retry lands', async () => {
  // What fast-check shrank the property above to before the fix (seed -1173622, path "0:1:2"):
  // [{ quantity: 1, retries: 1, twoRecords: false }, { quantity: 1, retries: 0, twoRecords: false }]; the record read 3.
  const store = await dynamo.store(dynamo.freshTableName('shrunk'));
  try {
    await store.open();
    let updates = 0;
    let releaseRetry: () => void = () => undefined;
    const retryHeld = new Promise<void>((resolve) => (releaseRetry = resolve));
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && ++updates === 2) await retryHeld;
        return next(args);
      },
      { step: 'initialize', name: 'hold-retry' },
    );
    const first = store.addUsage([delta(1)], 'batch-0');
    const retry = store.addUsage([delta(1)], 'batch-0');
    await first;
    await store.addUsage([delta(1)], 'batch-1');
    releaseRetry();
    await retry;
    expect((await store.listRecords())[0]?.quantity).toBe(2);
  } finally {
    await store.close();
  }
});
