import { isMeterkitError } from '../src';
import { at, startWorld, type World } from './support/world';

describe('finalized hourly totals (setTotal)', () => {
  let world: World;
  afterEach(() => world.close());

  it('sends a total handed in for a closed hour, with its allocations', async () => {
    world = await startWorld();
    const customer = await world.license();
    await world.metering.setTotal({
      customer,
      dimension: 'gb_processed',
      hour: new Date('2026-07-15T08:00:00Z'),
      quantity: 10,
      allocations: [{ quantity: 6, tags: { team: 'blue' } }, { quantity: 4 }],
    });
    expect(await world.metering.flush()).toMatchObject({ sent: 1 });
    const [record] = world.emu.inspect.records();
    expect(record).toMatchObject({ quantity: 10, timestamp: at('2026-07-15T08:00:00Z') });
    expect(record!.allocations).toHaveLength(2);
  });

  it('accepts the same total twice and refuses a different one with a typed error, before AWS would answer DuplicateRecord', async () => {
    world = await startWorld();
    const customer = await world.license();
    const total = { customer, dimension: 'api_calls', hour: at('2026-07-15T08:00:00Z'), quantity: 10 };
    await world.metering.setTotal(total);
    await world.metering.flush();
    await world.metering.setTotal(total);
    await expect(world.metering.setTotal({ ...total, quantity: 11 })).rejects.toMatchObject({ code: 'ERR_METERKIT_TOTAL_CONFLICT' });
    await world.metering.flush();
    expect(world.emu.inspect.calls('BatchMeterUsage')).toHaveLength(1);
    expect(world.emu.inspect.duplicates()).toEqual([]);
  });

  it.each([
    ['an hour not yet closed', { hour: at('2026-07-15T10:00:00Z') }, 'ERR_METERKIT_TIMESTAMP'],
    ['a time inside an hour', { hour: at('2026-07-15T08:30:00Z') }, 'ERR_METERKIT_TIMESTAMP'],
    ['an hour past the 24-hour window', { hour: at('2026-07-14T10:00:00Z') }, 'ERR_METERKIT_TIMESTAMP'],
    ['allocations that do not add up', { allocations: [{ quantity: 3 }] }, 'ERR_METERKIT_INVALID_ALLOCATIONS'],
    ['a negative quantity', { quantity: -1 }, 'ERR_METERKIT_QUANTITY_RANGE'],
    ['an unknown dimension', { dimension: 'nope' }, 'ERR_METERKIT_UNKNOWN_DIMENSION'],
  ])('refuses %s', async (_name, change, code) => {
    world = await startWorld();
    const customer = await world.license();
    const error = await world.metering
      .setTotal({ customer, dimension: 'api_calls', hour: at('2026-07-15T08:00:00Z'), quantity: 5, ...change })
      .catch((e: unknown) => e);
    expect(isMeterkitError(error) && error.code).toBe(code);
    expect((await world.metering.status()).counts.pending).toBe(0);
  });
});
