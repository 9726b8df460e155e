import { BatchMeterUsageCommand, MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { MeterkitError, type CustomerIdentity, type MeteringEvents } from '../src';
import { batchCalls, DIMENSIONS, startWorld, type World } from './support/world';

describe('sending usage to AWS (BatchMeterUsage against the emulator)', () => {
  let world: World;
  afterEach(() => world.close());

  it('sends one record per customer, dimension and hour, stamped at the hour start, after the hour and its lock', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const customer = await world.license();
    await metering.meter(customer).record('api_calls', 3).record('gb_processed', 2).commit();
    world.setTime('2026-07-15T10:59:00Z');
    await metering.meter(customer).record('api_calls', 4).commit();
    world.setTime('2026-07-15T11:05:00Z');
    await metering.meter(customer).record('api_calls', 100).commit();

    expect((await metering.flush()).sent).toBe(0);
    world.setTime('2026-07-15T11:10:00Z');
    const report = await metering.flush();
    expect(report).toMatchObject({ sent: 2, calls: 1 });

    const records = emu.inspect.records();
    expect(records.map((r) => [r.dimension, r.quantity, new Date(r.timestamp).toISOString()]).sort()).toEqual([
      ['api_calls', 7, '2026-07-15T10:00:00.000Z'],
      ['gb_processed', 2, '2026-07-15T10:00:00.000Z'],
    ]);
    expect(records.every((r) => r.licenseArn === (customer as { licenseArn: string }).licenseArn)).toBe(true);
    const status = await metering.status();
    expect(status.counts.sent).toBe(2);
    expect(status.pending.map((p) => [p.hour, p.quantity])).toEqual([['2026-07-15T11:00:00.000Z', 100]]);
  });

  it('freezes an hour\'s quantity: usage that arrives later is reported, not sent as a conflicting record', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const customer = await world.license();
    const slowRequest = metering.meter(customer);
    slowRequest.record('api_calls', 5);
    await metering.meter(customer).record('api_calls', 1).commit();
    world.setTime('2026-07-15T11:15:00Z');
    await metering.flush();
    const late: MeteringEvents['late'][] = [];
    metering.on('late', (e) => late.push(e));
    await slowRequest.commit();
    await metering.flush();
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(1);
    expect(emu.inspect.duplicates()).toEqual([]);
    expect(late.flatMap((e) => e.deltas.map((d) => d.quantity))).toEqual([5]);
    expect((await metering.status()).lateQuantity).toBe(5);
  });

  it('sends 60 records for 60 keys as 3 calls of 25, 25 and 10', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const customers: CustomerIdentity[] = [];
    for (let i = 0; i < 5; i++) customers.push(await world.license());
    for (const customer of customers) {
      const meter = metering.meter(customer);
      for (const dimension of DIMENSIONS) meter.record(dimension, 2);
      await meter.commit();
    }
    world.setTime('2026-07-15T12:00:00Z');
    const report = await metering.flush();
    expect(report).toMatchObject({ claimed: 60, sent: 60, calls: 3 });
    expect(batchCalls(emu).map((c) => c.records)).toEqual([25, 25, 10]);
    expect(emu.inspect.records().reduce((sum, r) => sum + r.quantity, 0)).toBe(120);
  });

  it('stops at a time budget, hands the rest back, and the next flush completes the bill exactly', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    for (let c = 0; c < 3; c++) {
      const meter = metering.meter(await world.license());
      for (const dimension of DIMENSIONS) meter.record(dimension, 3);
      await meter.commit();
    }
    world.setTime('2026-07-15T12:00:00Z');
    expect(await metering.flush({ stopAt: Date.now() })).toMatchObject({ claimed: 0, calls: 0 });
    // The budget is one BatchMeterUsage call, counted at the emulator rather than timed on this machine.
    const callsMade = () => emu.inspect.calls('BatchMeterUsage').length;
    const partial = await metering.flush({ outOfTime: () => callsMade() >= 1 });
    expect(partial).toMatchObject({ calls: 1, sent: 25, released: 11 });
    emu.clock.advance(60_000);
    const rest = await metering.flush();
    expect(partial.sent + rest.sent).toBe(36);
    expect(emu.inspect.records().reduce((sum, r) => sum + r.quantity, 0)).toBe(108);
    expect(emu.inspect.duplicates()).toEqual([]);
  });

  it('never mixes two products\' customers, or license and legacy records, in one call', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const license = await world.license();
    const legacy = await world.legacyCustomer();
    await metering.meter(license).record('api_calls', 1).commit();
    await metering.meter(legacy).record('api_calls', 2).commit();
    world.setTime('2026-07-15T12:00:00Z');
    expect(await metering.flush()).toMatchObject({ sent: 2, calls: 2 });
    expect(emu.inspect.rejected()).toEqual([]);
    expect(emu.inspect.totalFor({ customerIdentifier: (legacy as { customerIdentifier: string }).customerIdentifier })).toBe(2);
  });

  it('splits a call AWS refuses to isolate the one bad record and delivers the other 24', async () => {
    world = await startWorld({}, {
      products: [{ productCode: 'prod-licensed', dimensions: DIMENSIONS.filter((d) => d !== 'd07'), identity: 'license' }],
    });
    const { metering, emu } = world;
    const rejected: MeteringEvents['rejected'][] = [];
    metering.on('rejected', (e) => rejected.push(e));
    const customers: CustomerIdentity[] = [];
    for (let i = 0; i < 2; i++) customers.push(await world.license());
    for (const customer of customers) {
      const meter = metering.meter(customer);
      for (const dimension of DIMENSIONS) meter.record(dimension, 1);
      await meter.commit();
    }
    await metering.meter(await world.license()).record('api_calls', 1).commit();
    world.setTime('2026-07-15T12:00:00Z');
    const report = await metering.flush();
    expect(report).toMatchObject({ claimed: 25, sent: 23, rejected: 2 });
    expect(rejected.map((r) => [r.record.dimension, r.reason])).toEqual([
      ['d07', 'InvalidUsageDimensionException'],
      ['d07', 'InvalidUsageDimensionException'],
    ]);
    expect(emu.inspect.records()).toHaveLength(23);
    expect(emu.inspect.records().some((r) => r.dimension === 'd07')).toBe(false);
    expect((await metering.status()).counts).toMatchObject({ sent: 23, rejected: 2, pending: 0, sending: 0 });
  });

  it('reports a conflicting DuplicateRecord as lost billing even inside a batch that had to be split', async () => {
    world = await startWorld({}, {
      products: [{ productCode: 'prod-licensed', dimensions: DIMENSIONS.filter((d) => d !== 'd07'), identity: 'license' }],
    });
    const { metering, emu } = world;
    const customer = (await world.license()) as Extract<CustomerIdentity, { kind: 'license' }>;
    const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    await client.send(
      new BatchMeterUsageCommand({
        UsageRecords: [{ CustomerAWSAccountId: customer.customerAwsAccountId, LicenseArn: customer.licenseArn, Dimension: 'api_calls', Quantity: 99, Timestamp: new Date('2026-07-15T10:00:00Z') }],
      }),
    );
    client.destroy();
    const duplicates: MeteringEvents['duplicate'][] = [];
    metering.on('duplicate', (e) => duplicates.push(e));
    const meter = metering.meter(customer);
    for (const dimension of DIMENSIONS) meter.record(dimension, 1);
    await meter.commit();
    world.setTime('2026-07-15T12:00:00Z');
    const report = await metering.flush();
    expect(report).toMatchObject({ duplicate: 1, rejected: 1, sent: 10 });
    expect(duplicates.map((d) => d.record.dimension)).toEqual(['api_calls']);
    expect((await metering.status()).counts).toMatchObject({ duplicate: 1, sent: 10, rejected: 1 });
  });

  it('meters legacy customers by CustomerIdentifier with the request ProductCode', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const legacy = await world.legacyCustomer();
    await metering.meter(legacy).record('gb_processed', 9).commit();
    world.setTime('2026-07-15T11:30:00Z');
    await metering.flush();
    const [record] = emu.inspect.records();
    expect(record).toMatchObject({ productCode: 'prod-legacy', dimension: 'gb_processed', quantity: 9 });
    expect(record!.customerIdentifier).toBe((legacy as { customerIdentifier: string }).customerIdentifier);
    expect(record!.licenseArn).toBeUndefined();
  });

  it('sends tagged and untagged usage of one hour as one record with allocations', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const customer = await world.license();
    await metering.meter(customer).record('api_calls', 2, { tags: { team: 'blue' } }).record('api_calls', 3).commit();
    await metering.meter(customer).record('api_calls', 4, { tags: { team: 'red' } }).commit();
    world.setTime('2026-07-15T11:30:00Z');
    await metering.flush();
    const [record] = emu.inspect.records();
    expect(record!.quantity).toBe(9);
    const allocations = (record!.allocations ?? []).map((a) => [a.AllocatedUsageQuantity, a.Tags?.map((t) => `${t.Key}=${t.Value}`).join(',') ?? '']);
    expect(allocations.sort()).toEqual([[2, 'team=blue'], [3, ''], [4, 'team=red']].sort());
  });

  it('in dry-run mode runs everything but the call', async () => {
    world = await startWorld({ mode: 'dry-run' });
    const { metering, emu } = world;
    await metering.meter(await world.license()).record('api_calls', 1).commit();
    world.setTime('2026-07-15T11:30:00Z');
    expect(await metering.flush()).toMatchObject({ dryRun: 1, calls: 0 });
    expect(batchCalls(emu)).toEqual([]);
    expect((await metering.status()).counts['dry-run']).toBe(1);
  });

  it('gives every invalid record() a typed error and keeps the rest of the request', async () => {
    world = await startWorld();
    const { metering, emu } = world;
    const meter = metering.meter(await world.license());
    meter.record('api_calls', 2);
    for (const bad of [() => meter.record('API_CALLS'), () => meter.record('api_calls', -3), () => meter.record('api_calls', 2.5)]) {
      expect(bad).toThrow(MeterkitError);
    }
    await meter.commit();
    world.setTime('2026-07-15T11:30:00Z');
    await metering.flush();
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
  });

  it('refuses meters for unknown products and malformed customers', async () => {
    world = await startWorld();
    const { metering } = world;
    expect(() => metering.meter({ kind: 'license', licenseArn: 'arn:aws:license-manager::1:license:l-1', customerAwsAccountId: '1', productCode: 'prod-x' })).toThrow(
      expect.objectContaining({ code: 'ERR_METERKIT_UNKNOWN_PRODUCT' }),
    );
    expect(() => metering.meter({ kind: 'license', licenseArn: 'nope', customerAwsAccountId: '1', productCode: 'prod-licensed' })).toThrow(
      expect.objectContaining({ code: 'ERR_METERKIT_INVALID_CUSTOMER' }),
    );
  });
});
