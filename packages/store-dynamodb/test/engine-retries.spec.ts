import { createMetering, silentLogger } from '@meterkit/core';
import type { DynamoDbStore } from '../src';
import { LocalDynamo } from './support/dynalite';
import { licenseCustomer } from './support/license-customer';

const dynamo = new LocalDynamo();
const NOW = Date.parse('2026-07-15T10:20:00Z');
const customer = licenseCustomer;

beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

/** Holds the UpdateItem calls `shouldHold(call number)` picks, unanswered, until release(call number). */
function holdUpdates(store: DynamoDbStore, shouldHold: (call: number) => boolean) {
  let calls = 0;
  const held = new Map<number, () => void>();
  const answered = new Set<number>();
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'UpdateItemCommand') return next(args);
      const call = ++calls;
      if (shouldHold(call)) await new Promise<void>((resolve) => held.set(call, resolve));
      try {
        return await next(args);
      } finally {
        answered.add(call);
      }
    },
    { step: 'initialize', name: 'hold-updates' },
  );
  return { held: (call: number) => held.has(call), answered: (call: number) => answered.has(call), release: (call: number) => held.get(call)?.() };
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

it('regression: usage whose write answered after storeTimeoutMs, retried by the engine while it landed, is stored once', async () => {
  const store = await dynamo.store(dynamo.freshTableName('engine'));
  const metering = createMetering({
    products: [{ productCode: 'prod-x', dimensions: ['api_calls'] }],
    store,
    // Nothing here is due for sending: AWS is never called.
    aws: { region: 'us-east-1' },
    clock: () => NOW,
    logger: silentLogger,
    // The held writes below never answer in time, whatever the timeout; the others must answer within it on a busy machine.
    storeTimeoutMs: 2_000,
    persistIntervalMs: 3_600_000,
    flushIntervalMs: 3_600_000,
  });
  metering.on('error', () => undefined);
  try {
    await metering.status();
    // The batch's first write (call 1) and its retry (call 2) go unanswered; the engine stops waiting for each.
    const gate = holdUpdates(store, (call) => call <= 2);
    const meter = metering.meter(customer);
    meter.record('api_calls', 1);
    await meter.commit();
    await expect(metering.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    await expect(metering.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    await until(() => gate.held(2));
    // The first write lands late: the engine takes it as the batch's answer and moves on to newer usage of the record.
    gate.release(1);
    await until(() => gate.answered(1));
    const next = metering.meter(customer);
    next.record('api_calls', 1);
    await next.commit();
    await metering.persist();
    // Then the retry reaches DynamoDB.
    gate.release(2);
    await until(() => gate.answered(2));
    await metering.persist();
    expect((await store.listRecords()).map((record) => record.quantity)).toEqual([2]);
  } finally {
    await metering.close();
  }
});
