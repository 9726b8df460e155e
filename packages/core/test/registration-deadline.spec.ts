import { MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import fc from 'fast-check';
import { createMetering, handleRegistration, isMeterkitError, MemoryStore, TOKEN_FIELD, type Metering, type MeteringEvents, type ProductConfig } from '../src';
import { meteringOptionsFor, START, TEST_CREDENTIALS } from '../../../tools/testing/emulator-world/emulator-world';
import { startBlackHole, type BlackHole } from '../../../tools/testing/black-hole/black-hole';
import { fuzzParameters } from './generative/run';
import { LICENSED } from './support/world';

/** Far below the defaults, far above what the emulator on this machine takes to answer. */
const DEADLINE_MS = 300;
const CALL_TIMEOUT_MS = 100;
const CONTRACT = 'prod-contract-deadline';
const PRODUCTS: ProductConfig[] = [
  { productCode: LICENSED, dimensions: ['api_calls'] },
  { productCode: CONTRACT, dimensions: [], pricing: 'contract', entitlements: ['seats'] },
];

interface DeadlineWorld {
  emu: Emulator;
  /** In front of the emulator for ResolveCustomer. */
  metering: BlackHole;
  /** In front of the emulator for GetEntitlements. */
  entitlements: BlackHole;
  engine: Metering;
  /** ResolveCustomer calls that left the engine (answered or not). */
  resolveCalls(): number;
  registered: MeteringEvents['registered'][];
  close(): Promise<void>;
}

/**
 * An engine whose metering and entitlement endpoints are two TCP proxies in front of the emulator (each can stop
 * carrying data), its registrations bounded by 300 ms and each AWS call by 100 ms, with many fast retries.
 */
async function startDeadlineWorld(attempts = 20): Promise<DeadlineWorld> {
  const emu = await startEmulator({
    now: START,
    products: [
      { productCode: LICENSED, dimensions: ['api_calls'] },
      { productCode: CONTRACT, dimensions: [], pricing: 'contract', contractDimensions: ['seats'] },
    ],
  });
  const port = Number(new URL(emu.endpoint).port);
  const meteringHole = await startBlackHole('127.0.0.1', port);
  const entitlementHole = await startBlackHole('127.0.0.1', port);
  const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${meteringHole.port}`, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  let resolveCalls = 0;
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'ResolveCustomerCommand') resolveCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'countResolveCalls' },
  );
  const entitlementClient = new MarketplaceEntitlementServiceClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${entitlementHole.port}`,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
  const engine = createMetering(
    meteringOptionsFor(emu, PRODUCTS, {
      store: new MemoryStore(),
      aws: { client, callTimeoutMs: CALL_TIMEOUT_MS },
      registrationTimeoutMs: DEADLINE_MS,
      retry: { attempts, baseDelayMs: 1, maxDelayMs: 5 },
      entitlements: { client: entitlementClient, retry: { attempts, baseDelayMs: 1, maxDelayMs: 5 }, requestsPerSecond: 10_000 },
    }),
  );
  const registered: MeteringEvents['registered'][] = [];
  engine.on('registered', (e) => registered.push(e));
  return {
    emu,
    metering: meteringHole,
    entitlements: entitlementHole,
    engine,
    resolveCalls: () => resolveCalls,
    registered,
    async close() {
      await engine.close().catch(() => undefined);
      await meteringHole.shutdown();
      await entitlementHole.shutdown();
      await emu.close();
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

const codeOf = (error: unknown) => (isMeterkitError(error) ? error.code : String(error));

describe('registrationTimeoutMs: one bound for the whole registration, whatever AWS does', () => {
  let world: DeadlineWorld;
  afterEach(() => world.close());

  it('ends a registration against an AWS that never answers with ERR_METERKIT_REGISTRATION_FAILED, starting no attempt the deadline would cut off', async () => {
    world = await startDeadlineWorld();
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    world.metering.blackHole();

    const error = await rejection(world.engine.resolveRegistration(subscription.token));
    expect(codeOf(error)).toBe('ERR_METERKIT_REGISTRATION_FAILED');
    // Each unanswered call takes its whole 100 ms, and a call starts only with 100 ms left of the 300: at most 3,
    // where the 20 attempts of the retry policy went out before (2 s of calls).
    expect(world.resolveCalls()).toBeGreaterThanOrEqual(1);
    expect(world.resolveCalls()).toBeLessThanOrEqual(DEADLINE_MS / CALL_TIMEOUT_MS);
    expect(await world.engine.listCustomers()).toEqual([]);
    expect(world.registered).toEqual([]);

    world.metering.heal();
    const customer = await world.engine.resolveRegistration(subscription.token);
    expect(customer.identity).toMatchObject({ kind: 'license', licenseArn: subscription.licenseArn });
    expect(await world.engine.listCustomers()).toHaveLength(1);
    expect(world.registered).toEqual([{ customer, firstTime: true }]);
  });

  it('answers the route with 502 ERR_METERKIT_REGISTRATION_FAILED and a "try the same link again" message, and the same link registers after recovery', async () => {
    world = await startDeadlineWorld();
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    world.metering.blackHole();
    const form = { [TOKEN_FIELD]: subscription.token };

    const failed = await handleRegistration(world.engine, form, {}, { path: '/register' });
    expect(failed).toEqual({ status: 502, body: { error: { code: 'ERR_METERKIT_REGISTRATION_FAILED', message: expect.stringMatching(/same link/) } } });

    world.metering.heal();
    expect(await handleRegistration(world.engine, form, {}, { path: '/register' })).toEqual({ status: 200, body: { registered: true, productCode: LICENSED } });
  });

  it("ends a contract product's registration within the deadline when GetEntitlements never answers; the same token succeeds after recovery and announces the buyer once", async () => {
    world = await startDeadlineWorld();
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 12 } } });
    world.entitlements.blackHole();

    const error = await rejection(world.engine.resolveRegistration(subscription.token));
    expect(['ERR_METERKIT_ENTITLEMENT_READ', 'ERR_METERKIT_REGISTRATION_FAILED']).toContain(codeOf(error));
    // ResolveCustomer answered and the customer was stored before the read; nobody was told it registered.
    expect(await world.engine.listCustomers()).toHaveLength(1);
    expect(world.registered).toEqual([]);

    world.entitlements.heal();
    const customer = await world.engine.resolveRegistration(subscription.token);
    expect((await world.engine.entitlementsFor(customer))?.entitlements).toEqual([expect.objectContaining({ dimension: 'seats', value: 12 })]);
    expect(await world.engine.listCustomers()).toHaveLength(1);
    // The registration that answered is the buyer's first: the one cut off stored the record but never announced it.
    expect(world.registered).toEqual([{ customer, firstTime: true }]);
  });

  it("reads a contract registration's entitlements on the stale schedule after its deadline cut the read off, with no deadline of its own", async () => {
    world = await startDeadlineWorld();
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 7 } } });
    world.entitlements.blackHole();
    expect(await rejection(world.engine.resolveRegistration(subscription.token))).toBeDefined();
    const [customer] = await world.engine.listCustomers();
    expect(await world.engine.entitlementsFor(customer!)).toBeUndefined();

    world.entitlements.heal();
    world.emu.clock.advance(61_000);
    expect(await world.engine.refreshDueEntitlements()).toBeGreaterThanOrEqual(1);
    expect((await world.engine.entitlementsFor(customer!))?.entitlements).toEqual([expect.objectContaining({ dimension: 'seats', value: 7 })]);
  });

  it('against a throttling AWS ends in success or ERR_METERKIT_REGISTRATION_FAILED, never anything else; the same token then succeeds and the buyer is announced once', async () => {
    world = await startDeadlineWorld();
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, noNaN: true }), async (throttleRate) => {
        world.emu.faults.reset();
        world.emu.faults.set({ throttleRate });
        world.registered.length = 0;
        const subscription = await world.emu.subscribe({ productCode: LICENSED });
        const first = await world.engine.resolveRegistration(subscription.token).then(
          (customer) => ({ ok: true as const, customer }),
          (error: unknown) => ({ ok: false as const, code: codeOf(error) }),
        );
        if (!first.ok) expect(first.code).toBe('ERR_METERKIT_REGISTRATION_FAILED');

        world.emu.faults.reset();
        const customer = await world.engine.resolveRegistration(subscription.token);
        if (first.ok) expect(customer).toEqual(first.customer);
        expect(world.registered).toEqual([{ customer, firstTime: true }]);
      }),
      fuzzParameters(15),
    );
  });

  it('refuses a bad registrationTimeoutMs, and one below aws.callTimeoutMs, with ERR_METERKIT_OPTIONS', async () => {
    world = await startDeadlineWorld();
    for (const registrationTimeoutMs of [0, -1, 1.5, 600_001, '25000' as unknown as number, 50]) {
      expect(() => createMetering(meteringOptionsFor(world.emu, PRODUCTS, { aws: { endpoint: world.emu.endpoint, callTimeoutMs: 100 }, registrationTimeoutMs }))).toThrow(
        expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }),
      );
    }
    // The default (25 s) below a longer call bound must be raised explicitly.
    expect(() => createMetering(meteringOptionsFor(world.emu, PRODUCTS, { aws: { endpoint: world.emu.endpoint, callTimeoutMs: 30_000 } }))).toThrow(
      expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS', message: expect.stringMatching(/registrationTimeoutMs/) }),
    );
    const engine = createMetering(meteringOptionsFor(world.emu, PRODUCTS, { aws: { endpoint: world.emu.endpoint, callTimeoutMs: 30_000 }, registrationTimeoutMs: 30_000 }));
    await engine.close();
  });
});
