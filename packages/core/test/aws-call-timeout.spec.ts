import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import type { Emulator } from '@meterkit/emulator';
import { createMetering, createMeteringClient, isMeterkitError, MemoryStore, type Metering, type MeteringOptions, type ProductConfig } from '../src';
import { HOUR_CLOSED, meteringOptionsFor, startProductEmulator, TEST_CREDENTIALS } from '../../../tools/testing/emulator-world/emulator-world';
import { startBlackHole, type BlackHole } from '../../../tools/testing/black-hole/black-hole';
import { LICENSED } from './support/world';

/** Far below the default, far above what the emulator on this machine takes; calls to the black hole never answer. */
const TIMEOUT_MS = 200;
const PRODUCTS: ProductConfig[] = [{ productCode: LICENSED, dimensions: ['api_calls', 'gb_processed'] }];

interface HungWorld {
  emu: Emulator;
  hole: BlackHole;
  metering: Metering;
  store: MemoryStore;
  close(): Promise<void>;
}

/** An engine whose AWS endpoint is a TCP proxy in front of the emulator that can stop carrying data (black hole). */
async function startHungWorld(overrides: Partial<MeteringOptions> = {}, products = PRODUCTS): Promise<HungWorld> {
  const emu = await startProductEmulator(products);
  const hole = await startBlackHole('127.0.0.1', Number(new URL(emu.endpoint).port));
  const store = new MemoryStore();
  const metering = createMetering(
    meteringOptionsFor(emu, products, {
      store,
      aws: { region: 'us-east-1', endpoint: `http://127.0.0.1:${hole.port}`, credentials: TEST_CREDENTIALS, callTimeoutMs: TIMEOUT_MS },
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      ...overrides,
    }),
  );
  return {
    emu,
    hole,
    metering,
    store,
    async close() {
      await metering.close().catch(() => undefined);
      await hole.shutdown();
      await emu.close();
    },
  };
}

/** Flushes until nothing is unsettled (a call the bound cut short on a busy machine is only resent). */
async function drain(world: HungWorld): Promise<void> {
  for (let round = 0; round < 40; round++) {
    await world.metering.flush();
    if ((await world.metering.status()).pending.length === 0) return;
    world.emu.clock.advance(60_000);
  }
  throw new Error('usage still unsettled after 40 flushes');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('aws.callTimeoutMs: an AWS endpoint that accepts connections and never answers', () => {
  let world: HungWorld;
  afterEach(() => world.close());

  it('ends a registration with ERR_METERKIT_REGISTRATION_FAILED (TimeoutError) after its attempts, and the same token resolves once AWS answers again', async () => {
    world = await startHungWorld();
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    world.hole.blackHole();

    const error = await rejection(world.metering.resolveRegistration(subscription.token));
    expect(isMeterkitError(error) && [error.code, error.awsException]).toEqual(['ERR_METERKIT_REGISTRATION_FAILED', 'TimeoutError']);
    expect(await world.metering.listCustomers()).toEqual([]);

    world.hole.heal();
    const customer = await world.metering.resolveRegistration(subscription.token);
    expect(customer.identity).toMatchObject({ kind: 'license', licenseArn: subscription.licenseArn });
  });

  it('aborts a flush call, journals its records as possibly landed, and a later flush bills every unit exactly once', async () => {
    world = await startHungWorld();
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    const customer = await world.metering.resolveRegistration(subscription.token);
    await world.metering.meter(customer.identity).record('api_calls', 7).record('gb_processed', 3).commit();
    world.emu.clock.set(HOUR_CLOSED);
    world.hole.blackHole();

    const report = await world.metering.flush();
    expect(report).toMatchObject({ sent: 0, rejected: 0, duplicate: 0 });
    const records = await world.store.listRecords();
    expect(records.map((r) => [r.dimension, r.state, r.mayHaveLanded])).toEqual(
      expect.arrayContaining([
        ['api_calls', 'pending', true],
        ['gb_processed', 'pending', true],
      ]),
    );
    expect(records.every((r) => r.attempts >= 1)).toBe(true);
    expect(world.emu.inspect.records()).toEqual([]);

    world.hole.heal();
    await drain(world);
    expect(world.emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(7);
    expect(world.emu.inspect.totalFor({ dimension: 'gb_processed' })).toBe(3);
    expect(world.emu.inspect.duplicates()).toEqual([]);
    expect((await world.metering.status()).counts).toMatchObject({ sent: 2, duplicate: 0, rejected: 0, pending: 0, sending: 0 });
  });

  it('aborts a MeterUsage call (product mode), and the resend under the same ClientToken bills it once', async () => {
    world = await startHungWorld({}, [{ productCode: 'prod-ami', dimensions: ['vcpu_hours'], identity: 'product' }]);
    await world.metering.productMeter().record('vcpu_hours', 6).commit();
    world.emu.clock.set(HOUR_CLOSED);
    world.hole.blackHole();

    expect(await world.metering.flush()).toMatchObject({ sent: 0, rejected: 0, duplicate: 0 });
    expect((await world.store.listRecords()).map((r) => [r.state, r.mayHaveLanded])).toEqual([['pending', true]]);

    world.hole.heal();
    await drain(world);
    expect(world.emu.inspect.records().map((r) => [r.operation, r.dimension, r.quantity])).toEqual([['MeterUsage', 'vcpu_hours', 6]]);
    expect((await world.metering.status()).counts).toMatchObject({ sent: 1, duplicate: 0, rejected: 0, pending: 0 });
  });

  it('lets close() end while its running flush waits on a call that never answers, the record handed back for a later flush', async () => {
    world = await startHungWorld();
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    const customer = await world.metering.resolveRegistration(subscription.token);
    await world.metering.meter(customer.identity).record('api_calls', 2).commit();
    world.emu.clock.set(HOUR_CLOSED);
    world.hole.blackHole();

    const flush = world.metering.flush();
    // The call is journaled right before it goes on the wire: close() once it is there.
    while (!(await world.store.listRecords()).some((r) => r.mayHaveLanded)) await new Promise((resolve) => setImmediate(resolve));
    await world.metering.close();
    await expect(flush).resolves.toMatchObject({ sent: 0, released: 1 });
    expect(world.emu.inspect.records()).toEqual([]);
  });

  it('bounds the calls of a client you pass in, and books a call whose answer never came after AWS applied it as sent once', async () => {
    const emu = await startProductEmulator(PRODUCTS);
    // The user's own client: a step holds the answer of the first call AWS applied, and never lets it go (the SDK
    // never honours an abort there); the bound still ends the call.
    const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    let holdAnswers = false;
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        if (holdAnswers) await new Promise(() => undefined);
        return result;
      },
      { step: 'initialize', name: 'holdAnswers' },
    );
    const hole = await startBlackHole('127.0.0.1', Number(new URL(emu.endpoint).port));
    const store = new MemoryStore();
    const metering = createMetering(meteringOptionsFor(emu, PRODUCTS, { store, aws: { client, callTimeoutMs: TIMEOUT_MS }, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 5 } }));
    world = { emu, hole, metering, store, close: async () => (await metering.close(), await hole.shutdown(), await emu.close()) };

    const subscription = await emu.subscribe({ productCode: LICENSED });
    const customer = await metering.resolveRegistration(subscription.token);
    await metering.meter(customer.identity).record('api_calls', 5).commit();
    emu.clock.set(HOUR_CLOSED);
    holdAnswers = true;

    expect(await metering.flush()).toMatchObject({ sent: 0 });
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(5);
    expect((await store.listRecords()).map((r) => [r.state, r.mayHaveLanded])).toEqual([['pending', true]]);

    holdAnswers = false;
    await drain(world);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(5);
    expect(emu.inspect.records()).toHaveLength(1);
    expect((await store.listRecords()).map((r) => r.state)).toEqual(['sent']);
  });

  it('refuses a bad callTimeoutMs with ERR_METERKIT_OPTIONS', async () => {
    world = await startHungWorld();
    for (const callTimeoutMs of [0, -1, 1.5, 600_001, '10' as unknown as number]) {
      expect(() => createMetering(meteringOptionsFor(world.emu, PRODUCTS, { aws: { endpoint: world.emu.endpoint, callTimeoutMs } }))).toThrow(
        expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }),
      );
      expect(() => createMeteringClient({ callTimeoutMs })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    }
  });
});
