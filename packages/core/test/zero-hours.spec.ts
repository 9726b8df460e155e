import { at, startWorld, type World } from './support/world';

describe('zero-quantity records for active customers (zeroHours)', () => {
  let world: World;
  afterEach(() => world.close());

  it('sends a 0 record for each closed, locked hour without usage, and the real quantity where there was usage', async () => {
    world = await startWorld({ zeroHours: true });
    const { metering, emu } = world;
    const identity = await world.license();
    await metering.putCustomer({ identity, status: 'active' });
    world.setTime('2026-07-15T11:30:00Z');
    await metering.meter(identity).record('api_calls', 4).commit();
    world.setTime('2026-07-15T13:15:00Z');
    await metering.flush();

    const byHour = emu.inspect.records().map((r) => [new Date(r.hour).toISOString(), r.dimension, r.quantity]);
    expect(byHour.sort()).toEqual([
      ['2026-07-15T10:00:00.000Z', 'api_calls', 0],
      ['2026-07-15T11:00:00.000Z', 'api_calls', 4],
      ['2026-07-15T12:00:00.000Z', 'api_calls', 0],
    ]);
    expect(emu.inspect.duplicates()).toEqual([]);
  });

  it('never sends a zero for an hour that can still receive usage, nor for customers that are not active', async () => {
    world = await startWorld({ zeroHours: { dimensions: { 'prod-licensed': 'gb_processed' } } });
    const { metering, emu } = world;
    const active = await world.license();
    const registered = await world.license();
    await metering.putCustomer({ identity: active, status: 'active' });
    await metering.putCustomer({ identity: registered, status: 'registered' });
    world.setTime('2026-07-15T11:05:00Z');
    await metering.flush();
    expect(emu.inspect.records()).toEqual([]);
    world.setTime('2026-07-15T11:10:00Z');
    await metering.flush();
    expect(emu.inspect.records().map((r) => [r.licenseArn, r.dimension, r.quantity, r.hour])).toEqual([
      [(active as { licenseArn: string }).licenseArn, 'gb_processed', 0, at('2026-07-15T10:00:00Z')],
    ]);
  });

  it('refuses a zero dimension the product does not have', async () => {
    await expect(startWorld({ zeroHours: { dimensions: { 'prod-licensed': 'nope' } } })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    world = await startWorld();
  });
});
