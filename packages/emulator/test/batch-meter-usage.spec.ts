import {
  BatchMeterUsageCommand,
  InvalidCustomerIdentifierException,
  InvalidLicenseException,
  InvalidProductCodeException,
  InvalidTagException,
  InvalidUsageAllocationsException,
  InvalidUsageDimensionException,
  MarketplaceMeteringServiceException,
  TimestampOutOfBoundsException,
  type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator, type Subscription } from '../src';
import { HOUR, clientFor, errorOf } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20); // 2026-07-15T12:20Z
const HOUR_START = new Date(Date.UTC(2026, 6, 15, 11));

describe('BatchMeterUsage', () => {
  let emu: Emulator;
  let client: ReturnType<typeof clientFor>;
  let lic: Subscription;
  let legacy: Subscription;

  beforeAll(async () => {
    emu = await startEmulator({
      now: NOW,
      products: [
        { productCode: 'prod-new', dimensions: ['api_calls', 'gb'] },
        { productCode: 'prod-other', dimensions: ['api_calls'] },
        { productCode: 'prod-old', dimensions: ['seats'], identity: 'legacy' },
      ],
    });
    client = clientFor(emu);
  });
  afterAll(() => emu.close());
  beforeEach(async () => {
    emu.reset();
    emu.clock.set(NOW);
    lic = await emu.subscribe({ productCode: 'prod-new' });
    legacy = await emu.subscribe({ productCode: 'prod-old' });
  });

  const licRecord = (over: Partial<UsageRecord> = {}): UsageRecord => ({
    Timestamp: HOUR_START,
    Dimension: 'api_calls',
    Quantity: 5,
    CustomerAWSAccountId: lic.accountId,
    LicenseArn: lic.licenseArn,
    ...over,
  });
  const send = (UsageRecords: UsageRecord[], ProductCode?: string) => client.send(new BatchMeterUsageCommand({ UsageRecords, ProductCode }));

  it('accepts LicenseArn records without ProductCode and counts them per hour', async () => {
    const out = await send([licRecord(), licRecord({ Dimension: 'gb', Quantity: 2 })]);
    expect(out.Results?.map((r) => r.Status)).toEqual(['Success', 'Success']);
    expect(out.Results?.[0].MeteringRecordId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Results?.[0].UsageRecord?.Timestamp?.getTime()).toBe(HOUR_START.getTime());
    expect(out.UnprocessedRecords).toEqual([]);
    expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn, dimension: 'api_calls' })).toBe(5);
    const rec = emu.inspect.records()[0];
    expect(rec).toMatchObject({ operation: 'BatchMeterUsage', productCode: 'prod-new', licenseArn: lic.licenseArn, customerAWSAccountId: lic.accountId, hour: HOUR_START.getTime(), quantity: 5 });
    expect(emu.inspect.calls('BatchMeterUsage')).toEqual([expect.objectContaining({ status: 200, records: 2 })]);
  });

  it('treats an identical resend as idempotent (same id, counted once) and a different quantity as DuplicateRecord', async () => {
    const first = await send([licRecord()]);
    const again = await send([licRecord({ Timestamp: new Date(HOUR_START.getTime() + 10 * 60_000) })]); // same hour
    expect(again.Results?.[0].Status).toBe('Success');
    expect(again.Results?.[0].MeteringRecordId).toBe(first.Results?.[0].MeteringRecordId);
    const dup = await send([licRecord({ Quantity: 9 })]);
    expect(dup.Results?.[0].Status).toBe('DuplicateRecord');
    expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn })).toBe(5);
    expect(emu.inspect.duplicates()).toEqual([expect.objectContaining({ acceptedQuantity: 5, attemptedQuantity: 9 })]);
    const nextHour = await send([licRecord({ Timestamp: new Date(HOUR_START.getTime() - HOUR), Quantity: 9 })]);
    expect(nextHour.Results?.[0].Status).toBe('Success');
    expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn })).toBe(14);
  });

  it('defaults Quantity to 0', async () => {
    const out = await send([licRecord({ Quantity: undefined })]);
    expect(out.Results?.[0].Status).toBe('Success');
    expect(emu.inspect.records()[0].quantity).toBe(0);
  });

  it('meters legacy products by ProductCode + CustomerIdentifier, and by CustomerAWSAccountId', async () => {
    const out = await send([{ Timestamp: HOUR_START, Dimension: 'seats', Quantity: 3, CustomerIdentifier: legacy.customerIdentifier }], 'prod-old');
    expect(out.Results?.[0].Status).toBe('Success');
    const earlier = new Date(HOUR_START.getTime() - HOUR); // the same hour by account id would be the same customer's record
    const byAcct = await send([{ Timestamp: earlier, Dimension: 'seats', Quantity: 4, CustomerAWSAccountId: legacy.accountId }], 'prod-old');
    expect(byAcct.Results?.[0].Status).toBe('Success');
    const stranger = await send([{ Timestamp: HOUR_START, Dimension: 'seats', Quantity: 4, CustomerAWSAccountId: '999999999999' }], 'prod-old');
    expect(stranger.Results?.[0].Status).toBe('CustomerNotSubscribed');
    expect(emu.inspect.totalFor({ customerIdentifier: legacy.customerIdentifier })).toBe(3);
    expect(emu.inspect.totalFor({ customerAWSAccountId: legacy.accountId, productCode: 'prod-old' })).toBe(4);
  });

  it('refuses unknown identities at request level', async () => {
    const other = await emu.subscribe({ productCode: 'prod-new' });
    expect(await errorOf(() => send([licRecord({ LicenseArn: 'arn:aws:license-manager::123456789012:license:l-nope' })]))).toBeInstanceOf(InvalidLicenseException);
    expect(await errorOf(() => send([licRecord({ CustomerAWSAccountId: other.accountId })]))).toBeInstanceOf(InvalidLicenseException);
    expect(await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'seats', CustomerIdentifier: 'nobody' }], 'prod-old'))).toBeInstanceOf(
      InvalidCustomerIdentifierException,
    );
    expect(await errorOf(() => send([licRecord()], 'prod-nope'))).toBeInstanceOf(MarketplaceMeteringServiceException);
    expect(await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'seats', CustomerIdentifier: 'x' }], 'prod-nope'))).toBeInstanceOf(
      InvalidProductCodeException,
    );
    expect(emu.inspect.records()).toEqual([]);
  });

  it('refuses licenses of two products in one call with InvalidLicenseException (nothing counted)', async () => {
    const other = await emu.subscribe({ productCode: 'prod-other' });
    const err = await errorOf(() => send([licRecord(), licRecord({ CustomerAWSAccountId: other.accountId, LicenseArn: other.licenseArn })]));
    expect(err).toBeInstanceOf(InvalidLicenseException);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(emu.inspect.records()).toEqual([]);
  });

  it('enforces the identity-mode rules', async () => {
    // ProductCode with LicenseArn records
    const withCode = await errorOf(() => send([licRecord()], 'prod-new'));
    expect(withCode.name).toBe('ValidationException');
    // CustomerIdentifier without ProductCode
    expect(await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'seats', CustomerIdentifier: legacy.customerIdentifier }]))).toBeInstanceOf(
      InvalidProductCodeException,
    );
    // CustomerIdentifier and CustomerAWSAccountId together
    const both = await errorOf(() =>
      send([{ Timestamp: HOUR_START, Dimension: 'seats', CustomerIdentifier: legacy.customerIdentifier, CustomerAWSAccountId: legacy.accountId }], 'prod-old'),
    );
    expect(both.name).toBe('ValidationException');
    // a license-mode product refuses CustomerIdentifier and account-only records
    expect(await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'api_calls', CustomerIdentifier: 'abc' }], 'prod-new'))).toBeInstanceOf(
      InvalidCustomerIdentifierException,
    );
    expect(await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'api_calls', CustomerAWSAccountId: lic.accountId }], 'prod-new'))).toBeInstanceOf(
      InvalidLicenseException,
    );
    // LicenseArn without account
    expect((await errorOf(() => send([licRecord({ CustomerAWSAccountId: undefined })]))).name).toBe('ValidationException');
    // neither identity
    expect((await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'seats' }], 'prod-old'))).name).toBe('ValidationException');
  });

  it('fails the whole call on a dimension outside the product allow-list', async () => {
    const err = await errorOf(() => send([licRecord(), licRecord({ Dimension: 'API_CALLS' })]));
    expect(err).toBeInstanceOf(InvalidUsageDimensionException);
    expect(emu.inspect.records()).toEqual([]);
    expect(emu.inspect.rejected()).toEqual([expect.objectContaining({ operation: 'BatchMeterUsage', error: 'InvalidUsageDimensionException' })]);
  });

  it('applies model constraints with ValidationException', async () => {
    const many = Array.from({ length: 26 }, (_, i) => licRecord({ Timestamp: new Date(HOUR_START.getTime() - i * 60_000) }));
    const tooMany = await errorOf(() => send(many));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toMatch(/length less than or equal to 25/);
    expect((await errorOf(() => send([licRecord({ Quantity: -1 })]))).name).toBe('ValidationException');
    expect((await errorOf(() => send([licRecord({ Quantity: 2147483648 })]))).name).toBe('ValidationException');
    expect((await errorOf(() => send([licRecord({ Dimension: '' })]))).name).toBe('ValidationException');
    expect((await errorOf(() => send([licRecord({ Dimension: 'x'.repeat(256) })]))).name).toBe('ValidationException');
    expect((await errorOf(() => send([licRecord({ CustomerAWSAccountId: '12ab' })]))).name).toBe('ValidationException');
    expect((await errorOf(() => send([licRecord({ LicenseArn: 'not-an-arn' })]))).name).toBe('ValidationException');
    const badCode = await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'seats', CustomerIdentifier: 'x' }], 'prod old!'));
    expect(badCode.name).toBe('ValidationException');
    expect((await errorOf(() => send([{ Timestamp: HOUR_START, Dimension: 'seats', CustomerIdentifier: 'x'.repeat(256) }], 'prod-old'))).name).toBe(
      'ValidationException',
    );
    expect(emu.inspect.records()).toEqual([]);
  });

  it('accepts exactly 25 records, and an empty list', async () => {
    const recs = Array.from({ length: 25 }, (_, i) =>
      licRecord({ Timestamp: new Date(HOUR_START.getTime() - (i % 13) * HOUR), Dimension: i < 13 ? 'api_calls' : 'gb' }),
    );
    const out = await send(recs);
    expect(out.Results?.every((r) => r.Status === 'Success')).toBe(true);
    expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn })).toBe(125);
    expect((await send([])).Results).toEqual([]);
  });

  describe('allocations and tags', () => {
    const tagged = (allocs: NonNullable<UsageRecord['UsageAllocations']>, q = 5) => licRecord({ Quantity: q, UsageAllocations: allocs });
    it('accepts allocations that sum to the quantity, with one untagged bucket', async () => {
      const out = await send([
        tagged([
          { AllocatedUsageQuantity: 3, Tags: [{ Key: 'team', Value: 'blue' }] },
          { AllocatedUsageQuantity: 2 },
        ]),
      ]);
      expect(out.Results?.[0].Status).toBe('Success');
      expect(emu.inspect.records()[0].allocations).toHaveLength(2);
    });
    it('refuses bad allocations with InvalidUsageAllocationsException', async () => {
      expect(await errorOf(() => send([tagged([{ AllocatedUsageQuantity: 4, Tags: [{ Key: 'a', Value: 'b' }] }])]))).toBeInstanceOf(InvalidUsageAllocationsException);
      expect(await errorOf(() => send([tagged([])]))).toBeInstanceOf(InvalidUsageAllocationsException);
      expect(
        await errorOf(() =>
          send([
            tagged([
              { AllocatedUsageQuantity: 2, Tags: [{ Key: 'a', Value: 'b' }] },
              { AllocatedUsageQuantity: 3, Tags: [{ Key: 'a', Value: 'b' }] },
            ]),
          ]),
        ),
      ).toBeInstanceOf(InvalidUsageAllocationsException);
      expect(await errorOf(() => send([tagged([{ AllocatedUsageQuantity: -1 }, { AllocatedUsageQuantity: 6, Tags: [{ Key: 'a', Value: 'b' }] }])]))).toBeInstanceOf(
        InvalidUsageAllocationsException,
      );
    });
    it('refuses bad tags with InvalidTagException', async () => {
      const one = (Key: string, Value: string) => tagged([{ AllocatedUsageQuantity: 5, Tags: [{ Key, Value }] }]);
      expect(await errorOf(() => send([one('', 'v')]))).toBeInstanceOf(InvalidTagException);
      expect(await errorOf(() => send([one('k', '')]))).toBeInstanceOf(InvalidTagException);
      expect(await errorOf(() => send([one('k'.repeat(101), 'v')]))).toBeInstanceOf(InvalidTagException);
      expect(await errorOf(() => send([one('k', 'v'.repeat(257))]))).toBeInstanceOf(InvalidTagException);
      expect(await errorOf(() => send([one('k', 'a|b')]))).toBeInstanceOf(InvalidTagException);
      const six = Array.from({ length: 6 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      expect(await errorOf(() => send([tagged([{ AllocatedUsageQuantity: 5, Tags: six }])]))).toBeInstanceOf(InvalidTagException);
      expect(await errorOf(() => send([tagged([{ AllocatedUsageQuantity: 5, Tags: [] }])]))).toBeInstanceOf(InvalidTagException);
      // the model regex's ` -=` range allows e.g. '#', '(' and ';'
      const ok = await send([one('cost center', "a#(1);<=b")]);
      expect(ok.Results?.[0].Status).toBe('Success');
    });
  });

  describe('timestamp windows', () => {
    it('accepts records younger than 24 h and refuses older ones, failing the whole batch', async () => {
      const t = Date.UTC(2026, 6, 14, 13); // 23h20m before NOW
      expect((await send([licRecord({ Timestamp: new Date(t) })])).Results?.[0].Status).toBe('Success');
      const old = new Date(Date.UTC(2026, 6, 14, 12)); // 24h20m
      const err = await errorOf(() => send([licRecord({ Dimension: 'gb' }), licRecord({ Timestamp: old })]));
      expect(err).toBeInstanceOf(TimestampOutOfBoundsException);
      expect(emu.inspect.totalFor({ dimension: 'gb' })).toBe(0);
    });
    it('refuses future timestamps beyond the skew', async () => {
      expect((await send([licRecord({ Timestamp: new Date(NOW + 4 * 60_000) })])).Results?.[0].Status).toBe('Success');
      expect(await errorOf(() => send([licRecord({ Timestamp: new Date(NOW + HOUR) })]))).toBeInstanceOf(TimestampOutOfBoundsException);
    });
    it('applies the month-end cutoff at 06:00 UTC on the 1st', async () => {
      const mar31 = new Date(Date.UTC(2026, 2, 31, 23));
      emu.clock.set(Date.UTC(2026, 3, 1, 5, 59));
      const sub = await emu.subscribe({ productCode: 'prod-new' });
      const rec = { Timestamp: mar31, Dimension: 'api_calls', Quantity: 1, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn };
      expect((await send([rec])).Results?.[0].Status).toBe('Success');
      emu.clock.set(Date.UTC(2026, 3, 1, 6, 0)); // only 7 h later, but past the cutoff
      expect(await errorOf(() => send([{ ...rec, Dimension: 'gb' }]))).toBeInstanceOf(TimestampOutOfBoundsException);
      // a record of the new month is unaffected
      expect((await send([{ ...rec, Timestamp: new Date(Date.UTC(2026, 3, 1, 1)) }])).Results?.[0].Status).toBe('Success');
    });
    it('plays a stricter window when configured', async () => {
      const strict = await startEmulator({ now: NOW, products: [{ productCode: 'p', dimensions: ['d'] }], windows: { batchMeterUsageMs: 6 * HOUR } });
      try {
        const s = await strict.subscribe({ productCode: 'p' });
        const c = clientFor(strict);
        const rec = (h: number) => ({ Timestamp: new Date(NOW - h * HOUR), Dimension: 'd', Quantity: 1, CustomerAWSAccountId: s.accountId, LicenseArn: s.licenseArn });
        expect((await c.send(new BatchMeterUsageCommand({ UsageRecords: [rec(5)] }))).Results?.[0].Status).toBe('Success');
        expect(await errorOf(() => c.send(new BatchMeterUsageCommand({ UsageRecords: [rec(7)] })))).toBeInstanceOf(TimestampOutOfBoundsException);
      } finally {
        await strict.close();
      }
    });
  });
});
