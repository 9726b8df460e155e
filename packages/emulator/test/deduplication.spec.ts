import { BatchMeterUsageCommand, DuplicateRequestException, IdempotencyConflictException, MeterUsageCommand, type UsageRecord } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator, type Subscription } from '../src';
import { HOUR, clientFor, errorOf } from './helpers';

// AWS's de-duplication rules (reference §5): a record for a customer, dimension and hour that was already metered
// is a DuplicateRecord only when its quantity differs; the same quantity is the same record, whatever its tags.

const NOW = Date.UTC(2026, 6, 15, 12, 20);
const HOUR_START = new Date(Date.UTC(2026, 6, 15, 11));

describe('de-duplication', () => {
  let emu: Emulator;
  let client: ReturnType<typeof clientFor>;

  beforeAll(async () => {
    emu = await startEmulator({
      now: NOW,
      products: [
        { productCode: 'prod-new', dimensions: ['api_calls'] },
        { productCode: 'prod-old', dimensions: ['seats'], identity: 'legacy' },
        { productCode: 'ami-prod', dimensions: ['vcpu'] },
      ],
    });
    client = clientFor(emu);
  });
  afterAll(() => emu.close());
  beforeEach(() => {
    emu.reset();
    emu.clock.set(NOW);
  });

  const send = (UsageRecords: UsageRecord[], ProductCode?: string) => client.send(new BatchMeterUsageCommand({ UsageRecords, ProductCode }));
  const team = (value: string, q: number) => [{ AllocatedUsageQuantity: q, Tags: [{ Key: 'team', Value: value }] }];

  describe('BatchMeterUsage, the same quantity with other allocations', () => {
    let lic: Subscription;
    beforeEach(async () => {
      lic = await emu.subscribe({ productCode: 'prod-new' });
    });
    const rec = (over: Partial<UsageRecord>): UsageRecord => ({
      Timestamp: HOUR_START,
      Dimension: 'api_calls',
      Quantity: 5,
      CustomerAWSAccountId: lic.accountId,
      LicenseArn: lic.licenseArn,
      ...over,
    });

    it('answers Success with the first MeteringRecordId and bills once (other tags)', async () => {
      const first = await send([rec({ UsageAllocations: team('blue', 5) })]);
      const again = await send([rec({ UsageAllocations: team('red', 5) })]);
      expect(again.Results?.[0].Status).toBe('Success');
      expect(again.Results?.[0].MeteringRecordId).toBe(first.Results?.[0].MeteringRecordId);
      expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn })).toBe(5);
      expect(emu.inspect.records()).toHaveLength(1);
      expect(emu.inspect.records()[0].allocations).toEqual(team('blue', 5));
      expect(emu.inspect.duplicates()).toEqual([]);
    });

    it('answers Success for tags where there were none, and none where there were tags', async () => {
      const first = await send([rec({})]);
      expect((await send([rec({ UsageAllocations: team('blue', 5) })])).Results?.[0]).toMatchObject({ Status: 'Success', MeteringRecordId: first.Results?.[0].MeteringRecordId });
      await send([rec({ Timestamp: new Date(HOUR_START.getTime() - HOUR), UsageAllocations: team('blue', 5) })]);
      expect((await send([rec({ Timestamp: new Date(HOUR_START.getTime() - HOUR) })])).Results?.[0].Status).toBe('Success');
      expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn })).toBe(10);
    });

    it('still answers DuplicateRecord for another quantity, tagged or not', async () => {
      await send([rec({ UsageAllocations: team('blue', 5) })]);
      expect((await send([rec({ Quantity: 6, UsageAllocations: team('blue', 6) })])).Results?.[0].Status).toBe('DuplicateRecord');
      expect((await send([rec({ Quantity: 6 })])).Results?.[0].Status).toBe('DuplicateRecord');
      expect(emu.inspect.totalFor({ licenseArn: lic.licenseArn })).toBe(5);
    });
  });

  describe('BatchMeterUsage, a legacy buyer by CustomerIdentifier and by account id', () => {
    let buyer: Subscription;
    beforeEach(async () => {
      buyer = await emu.subscribe({ productCode: 'prod-old' });
    });
    const byId = (Quantity: number, at = HOUR_START): UsageRecord => ({ Timestamp: at, Dimension: 'seats', Quantity, CustomerIdentifier: buyer.customerIdentifier });
    const byAccount = (Quantity: number, at = HOUR_START): UsageRecord => ({ Timestamp: at, Dimension: 'seats', Quantity, CustomerAWSAccountId: buyer.accountId });
    const billed = () => emu.inspect.records().reduce((sum, r) => sum + r.quantity, 0);

    it('is one customer: the identifier first, then the account with another quantity, is a DuplicateRecord', async () => {
      const first = await send([byId(3)], 'prod-old');
      const second = await send([byAccount(4)], 'prod-old');
      expect(second.Results?.[0].Status).toBe('DuplicateRecord');
      expect(second.Results?.[0].MeteringRecordId).toBe(first.Results?.[0].MeteringRecordId);
      expect(billed()).toBe(3);
      expect(emu.inspect.duplicates()).toEqual([expect.objectContaining({ acceptedQuantity: 3, attemptedQuantity: 4 })]);
    });

    it('is one customer: the account first, then the identifier with the same quantity, is Success billed once', async () => {
      const first = await send([byAccount(3)], 'prod-old');
      const second = await send([byId(3)], 'prod-old');
      expect(second.Results?.[0]).toMatchObject({ Status: 'Success', MeteringRecordId: first.Results?.[0].MeteringRecordId });
      expect(billed()).toBe(3);
    });

    it('applies within one call too, and leaves other hours and other buyers alone', async () => {
      const other = await emu.subscribe({ productCode: 'prod-old' });
      const out = await send(
        [
          byId(3),
          byAccount(4),
          byAccount(4, new Date(HOUR_START.getTime() - HOUR)),
          { Timestamp: HOUR_START, Dimension: 'seats', Quantity: 4, CustomerAWSAccountId: other.accountId },
        ],
        'prod-old',
      );
      expect(out.Results?.map((r) => r.Status)).toEqual(['Success', 'DuplicateRecord', 'Success', 'Success']);
      expect(billed()).toBe(11);
    });

    it('keeps one customer across a resubscription (the identifier is kept, the account is the same)', async () => {
      const mine = await emu.subscribe({ productCode: 'prod-old', accountId: '777777777777' });
      await emu.cancel(mine.customerIdentifier as string);
      const again = await emu.subscribe({ productCode: 'prod-old', accountId: '777777777777' });
      expect(again.customerIdentifier).toBe(mine.customerIdentifier);
      await send([{ Timestamp: HOUR_START, Dimension: 'seats', Quantity: 2, CustomerIdentifier: again.customerIdentifier }], 'prod-old');
      const out = await send([{ Timestamp: HOUR_START, Dimension: 'seats', Quantity: 9, CustomerAWSAccountId: '777777777777' }], 'prod-old');
      expect(out.Results?.[0].Status).toBe('DuplicateRecord');
      expect(billed()).toBe(2);
    });
  });

  describe('MeterUsage', () => {
    const T = new Date(Date.UTC(2026, 6, 15, 12, 5));
    const mu = (over: Partial<ConstructorParameters<typeof MeterUsageCommand>[0]> = {}) =>
      client.send(new MeterUsageCommand({ ProductCode: 'ami-prod', Timestamp: T, UsageDimension: 'vcpu', UsageQuantity: 4, ...over }));

    it('returns the same MeteringRecordId for the same quantity with other allocations in the hour, billed once', async () => {
      const first = await mu({ UsageAllocations: team('blue', 4) });
      const again = await mu({ Timestamp: new Date(T.getTime() + 20 * 60_000), UsageAllocations: team('red', 4) });
      expect(again.MeteringRecordId).toBe(first.MeteringRecordId);
      expect((await mu()).MeteringRecordId).toBe(first.MeteringRecordId);
      expect(emu.inspect.totalFor({ productCode: 'ami-prod' })).toBe(4);
      expect(emu.inspect.records()[0].allocations).toEqual(team('blue', 4));
    });

    it('answers DuplicateRequestException for another quantity, whatever the ClientToken', async () => {
      await mu({ ClientToken: 'first' });
      expect(await errorOf(() => mu({ UsageQuantity: 5, ClientToken: 'second' }))).toBeInstanceOf(DuplicateRequestException);
      expect(await errorOf(() => mu({ UsageQuantity: 5 }))).toBeInstanceOf(DuplicateRequestException);
      expect(emu.inspect.totalFor({ productCode: 'ami-prod' })).toBe(4);
    });

    it('answers IdempotencyConflictException for a ClientToken reused with another quantity, hour or allocations', async () => {
      const first = await mu({ ClientToken: 'tok-1', UsageAllocations: team('blue', 4) });
      expect((await mu({ ClientToken: 'tok-1', UsageAllocations: team('blue', 4) })).MeteringRecordId).toBe(first.MeteringRecordId);
      expect(await errorOf(() => mu({ ClientToken: 'tok-1', UsageQuantity: 5 }))).toBeInstanceOf(IdempotencyConflictException);
      expect(await errorOf(() => mu({ ClientToken: 'tok-1', Timestamp: new Date(T.getTime() - HOUR) }))).toBeInstanceOf(IdempotencyConflictException);
      expect(await errorOf(() => mu({ ClientToken: 'tok-1', UsageAllocations: team('red', 4) }))).toBeInstanceOf(IdempotencyConflictException);
      expect(emu.inspect.totalFor({ productCode: 'ami-prod' })).toBe(4);
    });

    it('remembers a ClientToken across callers (one account): a second instance reusing it is the same request', async () => {
      const a = await clientFor(emu, 'us-east-1', 'instance-a').send(new MeterUsageCommand({ ProductCode: 'ami-prod', Timestamp: T, UsageDimension: 'vcpu', UsageQuantity: 4, ClientToken: 'shared' }));
      const b = await clientFor(emu, 'us-east-1', 'instance-b').send(new MeterUsageCommand({ ProductCode: 'ami-prod', Timestamp: T, UsageDimension: 'vcpu', UsageQuantity: 4, ClientToken: 'shared' }));
      expect(b.MeteringRecordId).toBe(a.MeteringRecordId);
      expect(emu.inspect.totalFor({ productCode: 'ami-prod' })).toBe(4);
      const other = await clientFor(emu, 'us-east-1', 'instance-b').send(new MeterUsageCommand({ ProductCode: 'ami-prod', Timestamp: T, UsageDimension: 'vcpu', UsageQuantity: 4, ClientToken: 'own' }));
      expect(other.MeteringRecordId).not.toBe(a.MeteringRecordId);
      expect(emu.inspect.totalFor({ productCode: 'ami-prod' })).toBe(8);
    });
  });
});
