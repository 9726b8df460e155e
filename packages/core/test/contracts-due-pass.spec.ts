import { MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { BOUGHT, CONTRACT, startContractsWorld, type ContractsWorld } from './contracts-world';

jest.setTimeout(60_000);

/** The real SDK client over HTTP to the emulator, counting the GetEntitlements calls it has on the wire at once. */
function countingClient(endpoint: string) {
  const client = new MarketplaceEntitlementServiceClient({ region: 'us-east-1', endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const wire = { now: 0, most: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      wire.now++;
      wire.most = Math.max(wire.most, wire.now);
      try {
        return await next(args);
      } finally {
        wire.now--;
      }
    },
    { step: 'initialize', name: 'countOnTheWire' },
  );
  return { client, wire };
}

describe('the due pass of the entitlement timer', () => {
  let world: ContractsWorld;
  afterEach(() => world.close());

  it('reads due customers a few at a time, and a tick during a pass joins it instead of reading them again', async () => {
    const requestsPerSecond = 3;
    const entitlements: { requestsPerSecond: number; client?: MarketplaceEntitlementServiceClient } = { requestsPerSecond };
    world = await startContractsWorld({ events: false, instances: 0, entitlements });
    const counting = countingClient(world.emu.endpoint);
    entitlements.client = counting.client;
    const metering = world.start();
    const buyers = 9;
    for (let i = 0; i < buyers; i++) {
      const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: BOUGHT[CONTRACT]!.first } });
      await metering.resolveRegistration(subscription.token);
    }
    const readAtRegistration = world.emu.inspect.calls('GetEntitlements').length;
    expect(readAtRegistration).toBe(buyers);
    counting.wire.most = 0;

    world.advance(3_600_000);
    const [first, tick] = await Promise.all([metering.refreshDueEntitlements(), metering.refreshDueEntitlements()]);

    expect(first).toBe(buyers);
    expect(tick).toBe(buyers);
    expect(world.emu.inspect.calls('GetEntitlements').length - readAtRegistration).toBe(buyers);
    expect(counting.wire.most).toBeGreaterThan(0);
    expect(counting.wire.most).toBeLessThanOrEqual(requestsPerSecond);
    await expect(metering.refreshDueEntitlements()).resolves.toBe(0);
  });
});
