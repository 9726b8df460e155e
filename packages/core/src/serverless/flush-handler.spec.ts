import { ErrorCodes, isMeterkitError } from '../errors';
import type { CustomerIdentity } from '../model/customer';
import { startWorld, type World } from '../../test/support/world';
import { createFlushHandler } from './flush-handler';

let world: World;
afterEach(() => world?.close());

/** A Lambda context whose invocation has `ms` left. */
const contextWith = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

/**
 * A Lambda context whose time runs out after `calls` BatchMeterUsage calls: its remaining time drops by one second
 * per call the emulator receives, so the budget does not depend on how fast this machine is.
 */
function contextForCalls(calls: number, marginMs: number) {
  const made = () => world.emu.inspect.calls('BatchMeterUsage').length;
  const start = made();
  return { getRemainingTimeInMillis: () => marginMs + (calls - (made() - start)) * 1_000 };
}

async function meterHour(customers: readonly CustomerIdentity[]): Promise<void> {
  for (const [i, customer] of customers.entries()) {
    const meter = world.metering.meter(customer);
    meter.record('api_calls', i + 1);
    await meter.commit();
  }
  await world.metering.persist();
}

it('sends within the time budget, hands the rest back, and finishes over later invocations', async () => {
  world = await startWorld();
  const customers = await Promise.all(Array.from({ length: 60 }, () => world.license()));
  await meterHour(customers);
  world.setTime('2026-07-15T11:20:00Z');
  let created = 0;
  const handler = createFlushHandler(() => {
    created += 1;
    return world.metering;
  }, { marginMs: 1_000 });

  // Time for one call: one batch of 25 goes out, the other claimed records are handed back.
  const first = await handler({}, contextForCalls(1, 1_000));
  expect(first.sent).toBe(25);
  expect(first.released).toBe(first.claimed - first.sent);

  let sent = first.sent;
  for (let run = 0; run < 10 && sent < 60; run++) {
    world.emu.clock.set(world.emu.clock.now() + 2_000);
    sent += (await handler({ source: 'aws.events' }, contextForCalls(1, 1_000))).sent;
  }
  expect(sent).toBe(60);
  expect(created).toBe(1);
  for (const [i, customer] of customers.entries()) {
    const licenseArn = customer.kind === 'license' ? customer.licenseArn : '';
    expect(world.emu.inspect.totalFor({ licenseArn, dimension: 'api_calls' })).toBe(i + 1);
  }
  expect(world.emu.inspect.duplicates()).toEqual([]);
});

it('starts no batch when the invocation has less time left than the margin', async () => {
  world = await startWorld();
  await meterHour([await world.license()]);
  world.setTime('2026-07-15T11:20:00Z');
  const report = await createFlushHandler(() => world.metering)({}, contextWith(9_000));
  expect(report).toMatchObject({ claimed: 0, sent: 0 });
  expect(world.emu.inspect.records()).toEqual([]);
  expect(await createFlushHandler(() => world.metering, { marginMs: 0 })({}, contextWith(9_000))).toMatchObject({ sent: 1 });
  expect(world.emu.inspect.records()).toHaveLength(1);
});

it('refuses an invalid margin', () => {
  world = undefined as unknown as World;
  let error: unknown;
  try {
    createFlushHandler(() => ({ products: [] }), { marginMs: -1 });
  } catch (caught) {
    error = caught;
  }
  expect(isMeterkitError(error, ErrorCodes.OPTIONS)).toBe(true);
});
