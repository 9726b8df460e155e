import { ErrorCodes, handleRegistration, TOKEN_FIELD, type Metering, type MeteringEvents } from '../src';
import { BOUGHT, CONSUMPTION, CONTRACT, LEGACY_CONTRACT, nextChange, startContractsWorld, SUBSCRIPTION, valueOf, type ContractsWorld } from './contracts-world';

jest.setTimeout(60_000);

const CACHE_MS = 5000;

describe.each([
  ['contract (license)', CONTRACT],
  ['contract with consumption (license)', CONSUMPTION],
  ['contract (legacy customer identifier)', LEGACY_CONTRACT],
])('entitlements of a %s product against the emulator', (_name, productCode) => {
  const bought = BOUGHT[productCode]!;
  let world: ContractsWorld;
  afterEach(() => world.close());

  const subscribe = () => world.emu.subscribe({ productCode, contract: { dimensions: bought.first } });
  const calls = () => world.emu.inspect.calls('GetEntitlements').length;

  it('reads the entitlements at registration, and a restart serves them with no AWS call', async () => {
    world = await startContractsWorld({ events: false });
    const [metering] = world.instances as [Metering];
    const subscription = await subscribe();
    const customer = await metering.resolveRegistration(subscription.token);
    const set = await metering.entitlementsFor(customer);
    expect(set).toMatchObject({ customerKey: customer.key, productCode, trigger: 'registration' });
    expect(set?.revoked).toBeUndefined();
    for (const [dimension, value] of Object.entries(bought.first)) expect(valueOf(set, dimension)).toBe(value);
    const meter = await metering.meterFor(customer);
    expect(meter.entitlement('seats')).toEqual({
      dimension: 'seats',
      value: bought.first.seats,
      expiresAt: subscription.contract!.expiresAt,
      within: true,
      fetchedAt: set!.fetchedAt,
    });
    const read = calls();
    expect(read).toBeGreaterThanOrEqual(1);

    await metering.close();
    const restarted = world.start();
    await expect(restarted.entitlementsFor(customer)).resolves.toEqual(set);
    expect((await restarted.meterFor(customer)).entitlement('seats').value).toBe(bought.first.seats);
    expect(calls()).toBe(read);
  });

  it('an amendment raising the entitlement is seen by every instance once the event arrived and cacheMs passed', async () => {
    world = await startContractsWorld({ instances: 3, entitlements: { cacheMs: CACHE_MS } });
    const [a, b, c] = world.instances as [Metering, Metering, Metering];
    const subscription = await subscribe();
    await world.emu.idle();
    const customer = await a.resolveRegistration(subscription.token);
    for (const instance of [b, c]) expect((await instance.meterFor(customer.identity)).entitlement('seats').value).toBe(bought.first.seats);

    const raised = nextChange(a, (e) => valueOf(e.entitlements, 'seats') === bought.raised.seats);
    await world.emu.amend(subscription.licenseArn ?? subscription.customerIdentifier!, { dimensions: bought.raised });
    const change = await raised;
    expect(change).toMatchObject({ customerKey: customer.key, productCode, trigger: expect.stringMatching(/^event:/) });
    expect(valueOf(change.previous, 'seats')).toBe(bought.first.seats);
    expect((await a.meterFor(customer.identity)).entitlement('seats').value).toBe(bought.raised.seats);
    // The other instances serve what they read until cacheMs has passed, then read the store again.
    for (const instance of [b, c]) expect((await instance.meterFor(customer.identity)).entitlement('seats').value).toBe(bought.first.seats);
    world.advance(CACHE_MS);
    for (const instance of [b, c]) {
      expect((await instance.meterFor(customer.identity)).entitlement('seats').value).toBe(bought.raised.seats);
      expect(valueOf(await instance.entitlementsFor(customer), 'seats')).toBe(bought.raised.seats);
    }
  });

  it('an end revokes access only once its signal arrives: an empty read before it keeps the set', async () => {
    world = await startContractsWorld({ instances: 2, entitlements: { cacheMs: CACHE_MS, refreshIntervalMs: 3_600_000 } });
    const [a, b] = world.instances as [Metering, Metering];
    const subscription = await subscribe();
    await world.emu.idle();
    const customer = await a.resolveRegistration(subscription.token);
    const failures: Array<MeteringEvents['entitlementRefreshFailed']> = [];
    a.on('entitlementRefreshFailed', (e) => failures.push(e));

    world.deliveries.hold();
    await world.emu.cancel(subscription.licenseArn ?? subscription.customerIdentifier!);
    await world.emu.idle();
    expect(world.emu.entitlements.list(productCode).filter((row) => row.contractStatus === 'active')).toEqual([]);
    // AWS answers nothing, but no end signal arrived yet: lag, the set stays (manual read and the hourly one).
    const kept = await a.refreshEntitlements(customer);
    expect(kept?.revoked).toBeUndefined();
    expect(valueOf(kept, 'seats')).toBe(bought.first.seats);
    world.emu.clock.set(kept!.fetchedAt + 3_600_000);
    const before = calls();
    await expect(a.refreshDueEntitlements()).resolves.toBeGreaterThanOrEqual(1);
    expect(calls()).toBeGreaterThan(before);
    expect(valueOf(await b.entitlementsFor(customer), 'seats')).toBe(bought.first.seats);
    expect(a.meter(customer.identity).entitlement('seats')).toMatchObject({ value: bought.first.seats, within: true });

    const revoked = nextChange(a, (e) => e.entitlements.revoked === true);
    const results = await world.deliveries.release();
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const change = await revoked;
    expect(change).toMatchObject({ customerKey: customer.key, entitlements: { entitlements: [], revoked: true }, trigger: expect.stringMatching(/^event:/) });
    expect(valueOf(change.previous, 'seats')).toBe(bought.first.seats);
    world.advance(CACHE_MS);
    for (const instance of [a, b]) {
      await expect(instance.entitlementsFor(customer)).resolves.toMatchObject({ revoked: true, entitlements: [] });
      expect(instance.meter(customer.identity).entitlement('seats')).toMatchObject({ value: undefined, within: false });
    }
    expect(failures).toEqual([]);
  });

  it('follows every page, empty pages with a NextToken included', async () => {
    world = await startContractsWorld({ events: false, entitlements: { pageSize: 1 }, emulator: { entitlements: { emptyPages: true } } });
    const [metering] = world.instances as [Metering];
    const customer = await metering.resolveRegistration((await subscribe()).token);
    const set = await metering.entitlementsFor(customer);
    expect(set?.entitlements.map((e) => e.dimension).sort()).toEqual(Object.keys(bought.first).sort());
    const dimensions = Object.keys(bought.first).length;
    // One page per entitlement, an empty page before each.
    expect(calls()).toBe(2 * dimensions);
    expect(world.emu.inspect.calls('GetEntitlements').every((call) => call.status === 200)).toBe(true);
  });

  it('survives throttling and AWS faults', async () => {
    world = await startContractsWorld({ events: false });
    const [metering] = world.instances as [Metering];
    world.emu.faults.failNext('GetEntitlements', 'ThrottlingException', 2);
    const first = await metering.resolveRegistration((await subscribe()).token);
    expect(valueOf(await metering.entitlementsFor(first), 'seats')).toBe(bought.first.seats);
    world.emu.faults.failNext('GetEntitlements', 'InternalServiceErrorException', 2);
    await expect(metering.refreshEntitlements(first)).resolves.toMatchObject({ trigger: 'manual' });
    const statuses = world.emu.inspect.calls('GetEntitlements').map((call) => call.status);
    expect(statuses.filter((status) => status !== 200)).toHaveLength(4);
  });
});

describe('entitlement reads under the emulator quota', () => {
  let world: ContractsWorld;
  afterEach(() => world.close());

  it('buyers registering at once above the quota are all read: throttled pages are retried', async () => {
    world = await startContractsWorld({
      events: false,
      entitlements: { pageSize: 1, requestsPerSecond: 1000, retry: { attempts: 12, baseDelayMs: 250, maxDelayMs: 2000 } },
      // The emulator counts calls per emulated second: here its time runs with real time.
      emulator: { entitlements: { throttlePerSecond: 2 }, timeSource: Date.now },
    });
    const [metering] = world.instances as [Metering];
    const subscriptions = await Promise.all([1, 2, 3, 4].map(() => world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 3, tier: 'gold' } } })));
    const customers = await Promise.all(subscriptions.map((s) => metering.resolveRegistration(s.token)));
    for (const customer of customers) expect(valueOf(await metering.entitlementsFor(customer), 'seats')).toBe(3);
    expect(world.emu.inspect.calls('GetEntitlements').some((call) => call.error === 'ThrottlingException')).toBe(true);
  });

  it('a read that keeps failing fails the registration with ERR_METERKIT_ENTITLEMENT_READ, and the same token works again', async () => {
    world = await startContractsWorld({ events: false, entitlements: { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } } });
    const [metering] = world.instances as [Metering];
    const failed: Array<MeteringEvents['entitlementRefreshFailed']> = [];
    metering.on('entitlementRefreshFailed', (e) => failed.push(e));
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 3 } } });
    world.emu.faults.failNext('GetEntitlements', 'ThrottlingException', 2);
    await expect(metering.resolveRegistration(subscription.token)).rejects.toMatchObject({ code: ErrorCodes.ENTITLEMENT_READ, awsException: 'ThrottlingException' });
    expect(failed).toEqual([expect.objectContaining({ trigger: 'registration', error: expect.objectContaining({ code: ErrorCodes.ENTITLEMENT_READ }) })]);
    // The registration route answers 502 with the code, and the hook does not run.
    const hooked: unknown[] = [];
    world.emu.faults.failNext('GetEntitlements', 'ThrottlingException', 2);
    const answer = await handleRegistration(metering, { [TOKEN_FIELD]: subscription.token }, {}, { path: '/register', onRegistered: (c) => void hooked.push(c) });
    expect(answer).toMatchObject({ status: 502, body: { error: { code: ErrorCodes.ENTITLEMENT_READ } } });
    expect(hooked).toEqual([]);
    const customer = await metering.resolveRegistration(subscription.token);
    expect(valueOf(await metering.entitlementsFor(customer), 'seats')).toBe(3);
  });
});

describe('entitlements on the clock', () => {
  let world: ContractsWorld;
  afterEach(() => world.close());

  it('a read that still shows the old values after the event is retried on the stale schedule until the change shows', async () => {
    world = await startContractsWorld({ emulator: { entitlements: { lagMs: 90_000 } } });
    const [metering] = world.instances as [Metering];
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 10 } } });
    await world.emu.idle();
    world.advance(90_000);
    const customer = await metering.resolveRegistration(subscription.token);
    expect(valueOf(await metering.entitlementsFor(customer), 'seats')).toBe(10);
    const changes: Array<MeteringEvents['entitlementsChanged']> = [];
    metering.on('entitlementsChanged', (e) => changes.push(e));

    await world.emu.amend(subscription.licenseArn!, { dimensions: { seats: 20 } });
    await world.emu.idle();
    await metering.idle();
    expect(metering.pendingEntitlementRetries()).toHaveLength(1);
    expect(changes).toEqual([]);
    world.advance(60_000);
    await metering.refreshDueEntitlements();
    expect(changes).toEqual([]);
    world.advance(60_000);
    await metering.refreshDueEntitlements();
    expect(changes.map((e) => valueOf(e.entitlements, 'seats'))).toEqual([20]);
    expect(changes[0]!.trigger).toMatch(/^event:/);
    expect(metering.pendingEntitlementRetries()).toEqual([]);
  });

  it('re-reads hourly and when an ExpirationDate passes (an auto-renewed contract keeps its values with a later expiry)', async () => {
    world = await startContractsWorld({ events: false });
    const [metering] = world.instances as [Metering];
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 10 }, durationMonths: 1, autoRenew: true } });
    const customer = await metering.resolveRegistration(subscription.token);
    const first = await metering.entitlementsFor(customer);
    world.advance(3_599_999);
    await expect(metering.refreshDueEntitlements()).resolves.toBe(0);
    expect(await metering.entitlementsFor(customer)).toEqual(first);
    world.advance(1);
    await expect(metering.refreshDueEntitlements()).resolves.toBe(1);
    expect(await metering.entitlementsFor(customer)).toMatchObject({ trigger: 'timer', fetchedAt: first!.fetchedAt + 3_600_000 });

    world.emu.clock.set(subscription.contract!.expiresAt + 1000);
    await world.emu.idle();
    await expect(metering.refreshDueEntitlements()).resolves.toBe(1);
    const renewed = await metering.entitlementsFor(customer);
    expect(renewed).toMatchObject({ trigger: 'expiry' });
    expect(renewed?.revoked).toBeUndefined();
    expect(renewed?.entitlements[0]).toMatchObject({ dimension: 'seats', value: 10 });
    expect(renewed!.entitlements[0]!.expiresAt).toBeGreaterThan(subscription.contract!.expiresAt);
  });
});

describe('an end signal kept with the customer', () => {
  let world: ContractsWorld;
  afterEach(() => world.close());

  it('after a restart, the timer read that finally comes back empty revokes: the end signal is the stored customer status', async () => {
    world = await startContractsWorld({ emulator: { entitlements: { lagMs: 600_000 } } });
    const [a] = world.instances as [Metering];
    const subscription = await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 10 } } });
    await world.emu.idle();
    world.advance(600_000);
    const customer = await a.resolveRegistration(subscription.token);
    await world.emu.cancel(subscription.licenseArn!);
    await world.emu.idle();
    await a.idle();
    // Ended and Deprovisioned were applied, but GetEntitlements still lists the contract (lag): nothing revoked yet.
    await expect(a.getCustomer(customer.key)).resolves.toMatchObject({ status: 'deprovisioning' });
    const kept = await a.entitlementsFor(customer);
    expect(valueOf(kept, 'seats')).toBe(10);
    await a.close();

    const restarted = world.start();
    world.emu.clock.set(kept!.fetchedAt + 3_600_000);
    await expect(restarted.refreshDueEntitlements()).resolves.toBe(1);
    await expect(restarted.entitlementsFor(customer)).resolves.toMatchObject({ revoked: true, entitlements: [], trigger: 'timer' });
  });
});

describe('what contract and subscription products allow', () => {
  let world: ContractsWorld;
  afterEach(() => world.close());

  it('a contract sends no metering, a subscription has no entitlements', async () => {
    world = await startContractsWorld({ events: false });
    const [metering] = world.instances as [Metering];
    const contract = await metering.resolveRegistration((await world.emu.subscribe({ productCode: CONTRACT, contract: { dimensions: { seats: 1 } } })).token);
    const meter = await metering.meterFor(contract);
    expect(() => meter.record('seats')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION, message: expect.stringMatching(/contract products send no metering records/) }));
    expect(() => meter.entitlement('colour')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION }));
    const subscription = await metering.resolveRegistration((await world.emu.subscribe({ productCode: SUBSCRIPTION })).token);
    expect(() => metering.meter(subscription).entitlement('seats')).toThrow(expect.objectContaining({ code: ErrorCodes.NOT_A_CONTRACT }));
    await expect(metering.refreshEntitlements(subscription)).rejects.toMatchObject({ code: ErrorCodes.NOT_A_CONTRACT });
    await expect(metering.entitlementsFor(subscription)).rejects.toMatchObject({ code: ErrorCodes.NOT_A_CONTRACT });
    expect(world.emu.inspect.calls('GetEntitlements')).toHaveLength(1);
  });

  it('a consumption meter shows the included units used this period', async () => {
    world = await startContractsWorld({ events: false, metering: { durability: 'sync' } });
    const [metering] = world.instances as [Metering];
    const customer = await metering.resolveRegistration((await world.emu.subscribe({ productCode: CONSUMPTION, contract: { dimensions: { seats: 5, calls: 1000 } } })).token);
    expect((await metering.meterFor(customer)).entitlement('calls')).toMatchObject({ value: 1000, used: 0, within: true });
    expect((await metering.meterFor(customer)).entitlement('seats')).not.toHaveProperty('used');
    await (await metering.meterFor(customer)).record('api_calls', 999).commit();
    world.advance(5000);
    expect((await metering.meterFor(customer)).entitlement('calls')).toMatchObject({ value: 1000, used: 999, within: true });
    await (await metering.meterFor(customer)).record('api_calls', 1).commit();
    world.advance(5000);
    expect((await metering.meterFor(customer)).entitlement('calls')).toMatchObject({ value: 1000, used: 1000, within: false });
  });
});

