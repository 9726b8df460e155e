import { MarketplaceMeteringClient, MeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { clientTokenFor, createMetering, silentLogger, type Metering, type MeteringEvents, type MeteringOptions } from '../src';

const AMI = 'prod-ami';
const DIMENSIONS = ['vcpu_hours', 'gb_scanned', 'jobs'];
const at = (iso: string): number => Date.parse(iso);
const CREDENTIALS = { accessKeyId: 'instance-i-0abc', secretAccessKey: 'test' };

interface ProductWorld {
  emu: Emulator;
  metering: Metering;
  setTime(iso: string): void;
  close(): Promise<void>;
}

async function startProductWorld(options: Partial<MeteringOptions> = {}, seed = 1): Promise<ProductWorld> {
  const emu = await startEmulator({ now: at('2026-07-15T10:20:00Z'), seed, products: [{ productCode: AMI, dimensions: DIMENSIONS }] });
  const metering = createMetering({
    products: [{ productCode: AMI, dimensions: DIMENSIONS, identity: 'product' }],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: CREDENTIALS },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    requestsPerSecond: 1000,
    ...options,
  });
  return {
    emu,
    metering,
    setTime: (iso) => emu.clock.set(at(iso)),
    close: async () => {
      await metering.close().catch(() => undefined);
      await emu.close();
    },
  };
}

/** What the emulator accepted with MeterUsage, per dimension and hour. */
function accepted(emu: Emulator): Map<string, number> {
  const totals = new Map<string, number>();
  for (const r of emu.inspect.records()) {
    expect(r.operation).toBe('MeterUsage');
    const key = `${r.dimension}@${new Date(r.hour).toISOString()}`;
    totals.set(key, (totals.get(key) ?? 0) + r.quantity);
  }
  return totals;
}

async function drain(world: ProductWorld): Promise<void> {
  for (let round = 0; round < 40; round++) {
    await world.metering.flush();
    if ((await world.metering.status()).pending.length === 0) return;
    world.emu.clock.advance(60_000);
  }
  throw new Error('product usage still unsettled after 40 flushes');
}

describe('product-level metering with MeterUsage (AMI and container products)', () => {
  let world: ProductWorld;
  afterEach(() => world.close());

  it('sends one MeterUsage record per dimension and hour with the exact totals, through the handler API adapters use', async () => {
    world = await startProductWorld();
    const sent: MeteringEvents['sent'][] = [];
    world.metering.on('sent', (e) => sent.push(e));
    // An adapter calls meterFor(identify(req)): in product mode the tenant plays no part in billing.
    for (const tenant of ['tenant-a', 'tenant-b', 'tenant-c']) {
      const meter = await world.metering.meterFor(tenant);
      meter.record('vcpu_hours', 2).record('jobs');
      await meter.commit();
    }
    await world.metering.productMeter().record('gb_scanned', 40, { tags: { team: 'red' } }).record('gb_scanned', 2).commit();
    world.setTime('2026-07-15T11:05:00Z');
    await (await world.metering.meterFor(undefined)).record('vcpu_hours', 7).commit();
    world.setTime('2026-07-15T12:30:00Z');

    const report = await world.metering.flush();

    expect(report).toMatchObject({ sent: 4, calls: 4, duplicate: 0, rejected: 0, expired: 0, released: 0 });
    expect(accepted(world.emu)).toEqual(
      new Map([
        ['vcpu_hours@2026-07-15T10:00:00.000Z', 6],
        ['jobs@2026-07-15T10:00:00.000Z', 3],
        ['gb_scanned@2026-07-15T10:00:00.000Z', 42],
        ['vcpu_hours@2026-07-15T11:00:00.000Z', 7],
      ]),
    );
    const tagged = world.emu.inspect.records().find((r) => r.dimension === 'gb_scanned')!;
    expect(tagged.productCode).toBe(AMI);
    expect(tagged.allocations).toEqual(
      expect.arrayContaining([{ AllocatedUsageQuantity: 40, Tags: [{ Key: 'team', Value: 'red' }] }, { AllocatedUsageQuantity: 2 }]),
    );
    expect(world.emu.inspect.calls('BatchMeterUsage')).toEqual([]);
    const ids = sent.flatMap((e) => e.records.map((r) => r.meteringRecordId)).sort();
    expect(ids).toEqual(world.emu.inspect.records().map((r) => r.meteringRecordId).sort());
    expect(sent.flatMap((e) => e.records.map((r) => r.customerKey))).toEqual(Array(4).fill(`product:${AMI}`));
  });

  it('answers a lost answer\'s resend with the same MeteringRecordId and counts the hour once', async () => {
    world = await startProductWorld();
    const sent: MeteringEvents['sent'][] = [];
    world.metering.on('sent', (e) => sent.push(e));
    await world.metering.productMeter().record('jobs', 3).commit();
    world.setTime('2026-07-15T11:30:00Z');
    world.emu.faults.failNext('MeterUsage', 'lost-answer');

    expect(await world.metering.flush()).toMatchObject({ sent: 1, duplicate: 0, calls: 2 });

    const [record] = world.emu.inspect.records();
    expect(world.emu.inspect.records()).toHaveLength(1);
    expect(sent[0]!.records[0]!.meteringRecordId).toBe(record!.meteringRecordId);
    expect(world.emu.inspect.rejected().map((r) => r.error)).not.toContain('DuplicateRequestException');
  });

  it.each([
    ['throttling', { throttleRate: 0.5 }],
    ['AWS 5xx faults', { serverErrorRate: 0.5 }],
    ['connection resets', { resetRate: 0.4 }],
    ['answers lost after the usage was counted', { lostAnswerRate: 0.5 }],
    ['all of them at once', { throttleRate: 0.2, serverErrorRate: 0.1, resetRate: 0.1, lostAnswerRate: 0.3 }],
  ])('retries under %s end in exactly one record per dimension and hour', async (_name, faults) => {
    world = await startProductWorld({}, 11);
    const expected = new Map<string, number>();
    for (const [h, iso] of ['2026-07-15T10:20:00Z', '2026-07-15T11:20:00Z', '2026-07-15T12:20:00Z'].entries()) {
      world.setTime(iso);
      const meter = world.metering.productMeter();
      DIMENSIONS.forEach((dimension, d) => {
        meter.record(dimension, 1 + h * 10 + d);
        expected.set(`${dimension}@${new Date(at(iso) - 20 * 60_000).toISOString()}`, 1 + h * 10 + d);
      });
      await meter.commit();
    }
    world.setTime('2026-07-15T13:30:00Z');
    world.emu.faults.set(faults);

    await drain(world);

    expect(accepted(world.emu)).toEqual(expected);
    expect(world.emu.inspect.calls('MeterUsage').length).toBeGreaterThan(9);
    expect(world.emu.inspect.duplicates()).toEqual([]);
    expect(world.emu.inspect.rejected().map((r) => r.error)).not.toContain('DuplicateRequestException');
    expect((await world.metering.status()).counts).toMatchObject({ sent: 9, duplicate: 0, rejected: 0, expired: 0, pending: 0, sending: 0 });
  });

  it('expires usage older than MeterUsage\'s 6-hour window with an event, and still sends the younger hour', async () => {
    world = await startProductWorld();
    const expired: MeteringEvents['expired'][] = [];
    world.metering.on('expired', (e) => expired.push(e));
    await world.metering.productMeter().record('jobs', 5).commit();
    world.setTime('2026-07-15T11:20:00Z');
    await world.metering.productMeter().record('jobs', 8).commit();
    await world.metering.persist();
    world.setTime('2026-07-15T16:30:00Z');

    expect(await world.metering.flush()).toMatchObject({ expired: 1, sent: 1, calls: 1 });

    expect(expired).toHaveLength(1);
    expect(expired[0]!.deadline).toBe(at('2026-07-15T16:00:00Z'));
    expect(expired[0]!.record).toMatchObject({ hour: at('2026-07-15T10:00:00Z'), state: 'expired', frozen: { quantity: 5 } });
    expect(accepted(world.emu)).toEqual(new Map([['jobs@2026-07-15T11:00:00.000Z', 8]]));
  });

  it('ends an hour AWS already holds with another quantity as a duplicate with an event', async () => {
    world = await startProductWorld();
    const duplicates: MeteringEvents['duplicate'][] = [];
    world.metering.on('duplicate', (e) => duplicates.push(e));
    const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: world.emu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    await client.send(new MeterUsageCommand({ ProductCode: AMI, Timestamp: new Date(at('2026-07-15T10:00:00Z')), UsageDimension: 'jobs', UsageQuantity: 99 }));
    client.destroy();
    await world.metering.productMeter().record('jobs', 4).commit();
    world.setTime('2026-07-15T11:30:00Z');

    expect(await world.metering.flush()).toMatchObject({ duplicate: 1, sent: 0 });

    expect(duplicates.map((d) => d.record.frozen?.quantity)).toEqual([4]);
    expect(world.emu.inspect.totalFor({ productCode: AMI, dimension: 'jobs' })).toBe(99);
  });

  describe('DuplicateRequestException always means AWS holds another quantity: never booked as sent', () => {
    async function conflicting(): Promise<{ duplicates: MeteringEvents['duplicate'][]; sent: MeteringEvents['sent'][]; logged: string[] }> {
      const logged: string[] = [];
      world = await startProductWorld({ logger: { ...silentLogger, error: (_obj, msg) => logged.push(msg ?? '') } });
      const duplicates: MeteringEvents['duplicate'][] = [];
      const sent: MeteringEvents['sent'][] = [];
      world.metering.on('duplicate', (e) => duplicates.push(e));
      world.metering.on('sent', (e) => sent.push(e));
      const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: world.emu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
      await client.send(new MeterUsageCommand({ ProductCode: AMI, Timestamp: new Date(at('2026-07-15T10:00:00Z')), UsageDimension: 'jobs', UsageQuantity: 99 }));
      client.destroy();
      await world.metering.productMeter().record('jobs', 4).commit();
      world.setTime('2026-07-15T11:30:00Z');
      return { duplicates, sent, logged };
    }

    function expectLoudDuplicate(seen: Awaited<ReturnType<typeof conflicting>>): void {
      expect(seen.sent).toEqual([]);
      expect(seen.duplicates.map((d) => [d.record.state, d.record.reason, d.record.frozen?.quantity])).toEqual([['duplicate', 'DuplicateRequestException', 4]]);
      expect(seen.logged).toContain('AWS already holds a different quantity for this record: this usage was not billed');
      expect(world.emu.inspect.totalFor({ productCode: AMI, dimension: 'jobs' })).toBe(99);
    }

    it('after an AWS fault in the same flush (a call that may have landed)', async () => {
      const seen = await conflicting();
      world.emu.faults.failNext('MeterUsage', 'InternalServiceErrorException');

      expect(await world.metering.flush()).toMatchObject({ calls: 2, duplicate: 1, sent: 0 });

      expectLoudDuplicate(seen);
    });

    it('after throttles handed the record back to a later flush', async () => {
      const seen = await conflicting();
      world.emu.faults.failNext('MeterUsage', 'ThrottlingException', 4);
      expect(await world.metering.flush()).toMatchObject({ released: 1, sent: 0 });
      world.emu.clock.advance(60_000);

      expect(await world.metering.flush()).toMatchObject({ calls: 1, duplicate: 1, sent: 0 });

      expectLoudDuplicate(seen);
      expect((await world.metering.status()).counts).toMatchObject({ duplicate: 1, sent: 0 });
    });
  });

  describe('the lock period leaves MeterUsage\'s 6-hour window room for retries', () => {
    const options = (lockMinutes: number, products: MeteringOptions['products'] = [{ productCode: AMI, dimensions: DIMENSIONS, identity: 'product' }]) =>
      ({ products, store: 'memory', logger: silentLogger, autoStart: false, aws: { region: 'us-east-1' }, lockMinutes }) as MeteringOptions;

    it.each([300, 240, 181])('refuses lockMinutes %i for a product-mode product, naming the limit', (lockMinutes) => {
      expect(() => createMetering(options(lockMinutes))).toThrow(
        expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS', message: expect.stringContaining(`lockMinutes must be at most 180 when a product uses identity 'product' (${AMI}), got ${lockMinutes}`) }),
      );
    });

    it('applies the tightest window when buyer products and product-mode products share one instance', () => {
      const mixed = [{ productCode: 'prod-saas', dimensions: ['x'] }, { productCode: AMI, dimensions: DIMENSIONS, identity: 'product' as const }];
      expect(() => createMetering(options(200, mixed))).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
      expect(() => createMetering(options(1201, [mixed[0]!]))).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
      return Promise.all([createMetering(options(180, mixed)).close(), createMetering(options(1200, [mixed[0]!])).close()]);
    });

    it('sends an hour with the longest lock allowed, 2 hours before its deadline', async () => {
      world = await startProductWorld({ lockMinutes: 180 });
      await world.metering.productMeter().record('jobs', 6).commit();
      world.setTime('2026-07-15T13:59:00Z');
      expect(await world.metering.flush()).toMatchObject({ claimed: 0 });
      world.setTime('2026-07-15T14:00:00Z');
      world.emu.faults.failNext('MeterUsage', 'ThrottlingException', 4);
      expect(await world.metering.flush()).toMatchObject({ released: 1, sent: 0 });
      world.setTime('2026-07-15T15:50:00Z');

      expect(await world.metering.flush()).toMatchObject({ sent: 1, expired: 0 });

      expect(accepted(world.emu)).toEqual(new Map([['jobs@2026-07-15T10:00:00.000Z', 6]]));
    });
  });

  it('marks usage of an unentitled buyer not-subscribed with an event, and rejects a bad dimension', async () => {
    world = await startProductWorld();
    const notSubscribed: MeteringEvents['notSubscribed'][] = [];
    const rejected: MeteringEvents['rejected'][] = [];
    world.metering.on('notSubscribed', (e) => notSubscribed.push(e));
    world.metering.on('rejected', (e) => rejected.push(e));
    await world.metering.productMeter().record('jobs', 1).record('vcpu_hours', 2).commit();
    world.setTime('2026-07-15T11:30:00Z');
    world.emu.faults.failNext('MeterUsage', 'CustomerNotEntitledException');
    world.emu.faults.failNext('MeterUsage', 'InvalidUsageDimensionException');

    expect(await world.metering.flush()).toMatchObject({ notSubscribed: 1, rejected: 1, sent: 0, released: 0 });
    expect(notSubscribed).toHaveLength(1);
    expect(rejected.map((r) => r.reason)).toEqual(['InvalidUsageDimensionException']);
  });

  it('pauses on a configuration error without blaming a record, and delivers once it is fixed', async () => {
    world = await startProductWorld();
    const errors: MeteringEvents['error'][] = [];
    world.metering.on('error', (e) => errors.push(e));
    await world.metering.productMeter().record('jobs', 1).record('vcpu_hours', 2).commit();
    world.setTime('2026-07-15T11:30:00Z');
    world.emu.faults.failNext('MeterUsage', 'InvalidEndpointRegionException');

    expect(await world.metering.flush()).toMatchObject({ sent: 0, rejected: 0, released: 2, calls: 1 });
    expect(errors.map((e) => [e.error.code, e.error.awsException])).toEqual([['ERR_METERKIT_AWS_CONFIGURATION', 'InvalidEndpointRegionException']]);

    world.emu.clock.advance(6 * 60_000);
    expect(await world.metering.flush()).toMatchObject({ sent: 2 });
    expect(accepted(world.emu).size).toBe(2);
  });

  it('keeps product usage in a SQLite file across a restart and sends it from the new process', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'meterkit-product-'));
    try {
      world = await startProductWorld({ store: `sqlite:${join(dir, 'usage.db')}` });
      await world.metering.productMeter().record('jobs', 12).commit();
      await world.metering.close();
      const restarted = createMetering({
        products: [{ productCode: AMI, dimensions: DIMENSIONS, identity: 'product' }],
        store: `sqlite:${join(dir, 'usage.db')}`,
        aws: { region: 'us-east-1', endpoint: world.emu.endpoint, credentials: CREDENTIALS },
        clock: () => world.emu.clock.now(),
        logger: silentLogger,
        autoStart: false,
      });
      world.setTime('2026-07-15T11:30:00Z');
      expect(await restarted.flush()).toMatchObject({ sent: 1 });
      await restarted.close();
      expect(accepted(world.emu)).toEqual(new Map([['jobs@2026-07-15T10:00:00.000Z', 12]]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives a stable ClientToken of at most 64 characters from instance, product, dimension, hour and quantity', () => {
    const input = { ProductCode: AMI, Timestamp: new Date(at('2026-07-15T10:00:00Z')), UsageDimension: 'jobs', UsageQuantity: 3 };
    const token = clientTokenFor(input, 'i-0abc');
    expect(token.length).toBeLessThanOrEqual(64);
    expect(clientTokenFor({ ...input }, 'i-0abc')).toBe(token);
    expect(clientTokenFor({ ...input, UsageQuantity: 4 }, 'i-0abc')).not.toBe(token);
    expect(clientTokenFor({ ...input, Timestamp: new Date(at('2026-07-15T11:00:00Z')) }, 'i-0abc')).not.toBe(token);
    expect(clientTokenFor({ ...input, UsageDimension: 'vcpu_hours' }, 'i-0abc')).not.toBe(token);
  });

  it('refuses product meters when no product is metered per running product, and buyer identities for a product-mode product', async () => {
    world = await startProductWorld();
    expect(() => world.metering.meter({ kind: 'legacy', productCode: AMI, customerIdentifier: 'abc' })).toThrow(
      expect.objectContaining({ code: 'ERR_METERKIT_INVALID_CUSTOMER' }),
    );
    const saas = createMetering({ products: [{ productCode: 'prod-saas', dimensions: ['x'] }], store: 'memory', logger: silentLogger, autoStart: false, aws: { region: 'us-east-1' } });
    expect(() => saas.productMeter()).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    await saas.close();
  });
});
