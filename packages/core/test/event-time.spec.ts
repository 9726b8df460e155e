import { customerKey, LifecycleReceiver, MAX_FUTURE_SKEW_MS, parseEventBridgeEvent } from '../src';
import { licenseEvent } from './support/license-event';
import { identityOf, LICENSED, startWorld, type World } from './support/world';

const SECRET = 'a-connection-secret-of-32-chars!!';

describe('EventBridge event times are bounded by the host clock', () => {
  let world: World;
  let receiver: LifecycleReceiver;
  beforeEach(async () => {
    // The emulated clock stands still: a test dating an event one millisecond past the bound must not see time move.
    const realTime = Date.now();
    world = await startWorld({}, { timeSource: () => realTime });
    receiver = new LifecycleReceiver(world.metering, { path: '/events', secret: SECRET });
  });
  afterEach(() => world.close());

  const deliver = (event: Record<string, unknown>) => receiver.handle({ headers: { 'x-api-key': SECRET }, body: JSON.stringify(event) });

  it('refuses an event dated in 2099, which would otherwise make every later genuine event stale', async () => {
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    const key = customerKey(identityOf(subscription));
    const now = world.emu.clock.now();
    const future = await deliver(licenseEvent('License Updated - Manufacturer', 'from-2099', Date.parse('2099-01-01T00:00:00Z'), subscription));
    expect(future).toMatchObject({ status: 400, body: { error: { code: 'ERR_METERKIT_LIFECYCLE_FUTURE' } } });
    await expect(world.metering.getCustomer(key)).resolves.toBeUndefined();

    expect((await deliver(licenseEvent('License Updated - Manufacturer', 'genuine-1', now - 60_000, subscription))).body).toEqual({ outcome: 'applied' });
    expect((await deliver(licenseEvent('License Deprovisioned - Manufacturer', 'genuine-2', now, subscription))).body).toEqual({ outcome: 'applied' });
    await expect(world.metering.getCustomer(key)).resolves.toMatchObject({ status: 'deprovisioning' });
  });

  it('accepts ordinary clock skew and refuses one millisecond beyond it, on every delivery path', async () => {
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    const now = world.emu.clock.now();
    const beyond = parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer', 'beyond', now + MAX_FUTURE_SKEW_MS + 1, subscription));
    await expect(world.metering.applyLifecycleEvent(beyond)).rejects.toMatchObject({ code: 'ERR_METERKIT_LIFECYCLE_FUTURE' });
    const within = parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer', 'within', now + MAX_FUTURE_SKEW_MS, subscription));
    await expect(world.metering.applyLifecycleEvent(within)).resolves.toBe('applied');
  });

  it('takes the bound from eventClockSkewMs, validated once', async () => {
    await world.close();
    // The engine's clock stands still here, so "1 ms ahead" stays ahead however long the machine takes.
    let now = 0;
    world = await startWorld({ eventClockSkewMs: 0, clock: () => now });
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    now = world.emu.clock.now();
    const ahead = (ms: number, id: string) => parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer', id, now + ms, subscription));
    await expect(world.metering.applyLifecycleEvent(ahead(1, 'one-ms-ahead'))).rejects.toMatchObject({ code: 'ERR_METERKIT_LIFECYCLE_FUTURE' });
    await expect(world.metering.applyLifecycleEvent(ahead(0, 'now'))).resolves.toBe('applied');
    await world.close();

    world = await startWorld({ eventClockSkewMs: 3_600_000 });
    const later = await world.emu.subscribe({ productCode: LICENSED });
    const event = parseEventBridgeEvent(licenseEvent('License Updated - Manufacturer', 'half-hour-ahead', world.emu.clock.now() + 1_800_000, later));
    await expect(world.metering.applyLifecycleEvent(event)).resolves.toBe('applied');
    await expect(startWorld({ eventClockSkewMs: -1 })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
  });
});
