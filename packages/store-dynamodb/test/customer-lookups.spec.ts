import fc from 'fast-check';
import type { CustomerRecord } from '@meterkit/core';
import type { DynamoDbStore } from '../src';
import { LocalDynamo } from './support/dynalite';
import { licenseRecord as license } from './support/license-customer';

// The engine reads a tenant's customer on every request that finds its cached answer expired, until the first read
// answers: concurrent lookups of one tenant (or customer key) share one read, and a lookup started after a write of
// the store never shares a read started before the write ended.
// Invariant (property below): whatever the order DynamoDB's answers come back in, a lookup answers the tenant's
// customer as of a write at least as new as the last write of the store that ended before the lookup started.

const dynamo = new LocalDynamo();
beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

/** DynamoDB calls the store's client made, by command. */
function countCalls(store: DynamoDbStore): Record<string, number> {
  const calls: Record<string, number> = {};
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      calls[command] = (calls[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'count-calls' },
  );
  return calls;
}

/** The first GetItem answers only once `release` is called, after DynamoDB read the item. */
function holdFirstGetItem(store: DynamoDbStore): { read: Promise<void>; release: () => void } {
  let held = false;
  let release!: () => void;
  let signalRead!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const read = new Promise<void>((resolve) => (signalRead = resolve));
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'GetItemCommand' && !held) {
        held = true;
        signalRead();
        await gate;
      }
      return out;
    },
    { step: 'initialize', name: 'hold-first-get' },
  );
  return { read, release };
}

async function openStore(): Promise<DynamoDbStore> {
  const store = await dynamo.store(dynamo.freshTableName('lookups'));
  await store.open();
  return store;
}

it('concurrent lookups of one tenant share one read: one Query and one GetItem for ten requests, each answered its own copy', async () => {
  const store = await openStore();
  const linked = license(1, { tenantId: 'tenant-1' });
  await store.putCustomer(linked);
  const calls = countCalls(store);

  const answers = await Promise.all(Array.from({ length: 10 }, () => store.findCustomerByTenant('tenant-1')));

  for (const answer of answers) expect(answer).toStrictEqual({ ...linked, version: 1 });
  expect(new Set(answers).size).toBe(10);
  expect(calls).toStrictEqual({ QueryCommand: 1, GetItemCommand: 1 });
  await store.close();
});

it('concurrent reads of one customer share one GetItem; reads of other keys do not', async () => {
  const store = await openStore();
  const [a, b] = [license(1), license(2)];
  await store.putCustomer(a);
  await store.putCustomer(b);
  const calls = countCalls(store);

  const answers = await Promise.all([...Array.from({ length: 5 }, () => store.getCustomer(a.key)), store.getCustomer(b.key)]);

  expect(answers).toStrictEqual([...Array.from({ length: 5 }, () => ({ ...a, version: 1 })), { ...b, version: 1 }]);
  expect(calls).toStrictEqual({ GetItemCommand: 2 });
  await store.close();
});

it('a lookup started after a write of the store ended reads after it, while a read from before the write is still under way', async () => {
  const store = await openStore();
  const before = license(1, { tenantId: 'tenant-1', updatedAt: 10 });
  const after = license(2, { tenantId: 'tenant-1', updatedAt: 20 });
  await store.putCustomer(before);
  const { read, release } = holdFirstGetItem(store);

  const early = store.findCustomerByTenant('tenant-1');
  // The early lookup read customer 1, still linked, and has not answered yet.
  await read;
  await store.putCustomer({ ...before, tenantId: undefined, updatedAt: 20 });
  await store.putCustomer(after);
  const late = store.findCustomerByTenant('tenant-1');
  release();

  await expect(early).resolves.toStrictEqual({ ...before, version: 1 });
  await expect(late).resolves.toStrictEqual({ ...after, version: 1 });
  await store.close();
});

it('a failed read fails every lookup that shared it, and the next lookup reads again', async () => {
  const store = await openStore();
  await store.putCustomer(license(1, { tenantId: 'tenant-1' }));
  const calls = countCalls(store);
  let failing = true;
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'QueryCommand' && failing) throw Object.assign(new Error('the service is unavailable'), { name: 'ServiceUnavailable' });
      return next(args);
    },
    { step: 'initialize', name: 'fail-queries' },
  );

  const shared = await Promise.allSettled([store.findCustomerByTenant('tenant-1'), store.findCustomerByTenant('tenant-1')]);
  failing = false;

  expect(shared.map((r) => r.status)).toStrictEqual(['rejected', 'rejected']);
  expect(shared.map((r) => (r as PromiseRejectedResult).reason.code)).toStrictEqual(['ERR_METERKIT_STORE', 'ERR_METERKIT_STORE']);
  await expect(store.findCustomerByTenant('tenant-1')).resolves.toMatchObject({ tenantId: 'tenant-1' });
  expect(calls).toStrictEqual({ QueryCommand: 2, GetItemCommand: 1 });
  await store.close();
});

/** Every Query and GetItem answer waits for the scheduler after DynamoDB read it: the property picks their order. */
function scheduleReads(store: DynamoDbStore, s: fc.Scheduler): void {
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'QueryCommand' || context.commandName === 'GetItemCommand') await s.schedule(Promise.resolve(), context.commandName);
      return out;
    },
    { step: 'initialize', name: 'scheduled-reads' },
  );
}

const stepsArb = fc.array(
  fc.oneof(
    /** The tenant linked to customer `customer` by a write of the store (awaited), newest `updatedAt`. */
    fc.record({ kind: fc.constant('link' as const), customer: fc.integer({ min: 0, max: 2 }) }),
    /** A lookup started (not awaited). */
    fc.record({ kind: fc.constant('lookup' as const) }),
    /** One held answer delivered. */
    fc.record({ kind: fc.constant('answer' as const) }),
  ),
  { minLength: 1, maxLength: 12 },
);

it('a lookup answers a link at least as new as every write of the store that ended before it started, whatever order the reads answer in', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), stepsArb, async (s, steps) => {
      const store = await openStore();
      try {
        let written = 1;
        await store.putCustomer(license(0, { tenantId: 'tenant-1', updatedAt: written }));
        scheduleReads(store, s);
        const lookups: Array<{ writtenAtStart: number; answer: Promise<CustomerRecord | undefined> }> = [];
        for (const step of steps) {
          if (step.kind === 'link') {
            written += 1;
            await store.putCustomer(license(step.customer, { tenantId: 'tenant-1', updatedAt: written }));
          } else if (step.kind === 'lookup') {
            lookups.push({ writtenAtStart: written, answer: store.findCustomerByTenant('tenant-1') });
          } else if (s.count() > 0) {
            await s.waitOne();
          }
        }
        const answers = await s.waitFor(Promise.all(lookups.map((l) => l.answer)));
        for (const [i, answer] of answers.entries()) {
          expect(answer?.tenantId).toBe('tenant-1');
          expect(answer!.updatedAt).toBeGreaterThanOrEqual(lookups[i]!.writtenAtStart);
        }
      } finally {
        await store.close();
      }
    }),
    { numRuns: 40 },
  );
});
