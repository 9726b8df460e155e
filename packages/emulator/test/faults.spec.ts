import {
  BatchMeterUsageCommand,
  InternalServiceErrorException,
  ThrottlingException,
  CustomerNotEntitledException,
  DisabledApiException,
  PlatformNotSupportedException,
  MeterUsageCommand,
  RegisterUsageCommand,
  ResolveCustomerCommand,
  InvalidEndpointRegionException,
  InvalidRegionException,
} from '@aws-sdk/client-marketplace-metering';
import { mulberry32, startEmulator, type Emulator, type Subscription } from '../src';
import { clientFor, errorOf } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20);
const T = new Date(Date.UTC(2026, 6, 15, 11));

describe('fault injection', () => {
  let emu: Emulator;
  let sub: Subscription;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, seed: 42, products: [{ productCode: 'p', dimensions: ['d', 'e'] }] });
    sub = await emu.subscribe({ productCode: 'p' });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  const rec = (Quantity = 1, Dimension = 'd') => ({ Timestamp: T, Dimension, Quantity, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn });
  const bmu = (recs = [rec()]) => clientFor(emu).send(new BatchMeterUsageCommand({ UsageRecords: recs }));

  it('mulberry32 is deterministic per seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(8)()).not.toBe(xs[0]);
  });

  it('failNext makes the next calls fail with the named error, then recovers', async () => {
    emu.faults.failNext('BatchMeterUsage', 'ThrottlingException', 2);
    expect(await errorOf(() => bmu())).toBeInstanceOf(ThrottlingException);
    expect(await errorOf(() => bmu())).toBeInstanceOf(ThrottlingException);
    expect((await bmu()).Results?.[0].Status).toBe('Success');
    expect(emu.inspect.rejected().map((r) => r.error)).toEqual(['ThrottlingException', 'ThrottlingException']);
  });

  it('failNext("*") applies to any operation and 5xx errors carry status 500', async () => {
    emu.faults.failNext('*', 'InternalServiceErrorException');
    const err = await errorOf(() => clientFor(emu).send(new ResolveCustomerCommand({ RegistrationToken: sub.token })));
    expect(err).toBeInstanceOf(InternalServiceErrorException);
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect(err.$fault).toBe('server');
  });

  it('failNext can raise errors that need an AWS-side state: CustomerNotEntitled, PlatformNotSupported', async () => {
    emu.faults.failNext('RegisterUsage', 'PlatformNotSupportedException');
    emu.faults.failNext('MeterUsage', 'CustomerNotEntitledException');
    expect(await errorOf(() => clientFor(emu).send(new RegisterUsageCommand({ ProductCode: 'p', PublicKeyVersion: 1 })))).toBeInstanceOf(
      PlatformNotSupportedException,
    );
    expect(await errorOf(() => clientFor(emu).send(new MeterUsageCommand({ ProductCode: 'p', Timestamp: T, UsageDimension: 'd' })))).toBeInstanceOf(
      CustomerNotEntitledException,
    );
  });

  it('reset destroys the connection before applying', async () => {
    emu.faults.failNext('BatchMeterUsage', 'reset');
    const err = await errorOf(() => bmu());
    expect(err.name).not.toMatch(/Exception$/);
    expect(emu.inspect.records()).toEqual([]);
    expect(emu.inspect.calls('BatchMeterUsage')).toEqual([expect.objectContaining({ status: 0, error: 'reset' })]);
  });

  it('lost-answer applies the records then answers 500; the retry is idempotent', async () => {
    emu.faults.failNext('BatchMeterUsage', 'lost-answer');
    expect(await errorOf(() => bmu([rec(7)]))).toBeInstanceOf(InternalServiceErrorException);
    expect(emu.inspect.totalFor({ licenseArn: sub.licenseArn })).toBe(7);
    const retry = await bmu([rec(7)]);
    expect(retry.Results?.[0].Status).toBe('Success');
    expect(emu.inspect.totalFor({ licenseArn: sub.licenseArn })).toBe(7);
  });

  it('lost-answer-reset applies the records then destroys the socket', async () => {
    emu.faults.failNext('BatchMeterUsage', 'lost-answer-reset');
    const err = await errorOf(() => bmu([rec(3)]));
    expect(err).not.toBeInstanceOf(InternalServiceErrorException);
    expect(emu.inspect.totalFor({ licenseArn: sub.licenseArn })).toBe(3);
  });

  it('rates are deterministic for a seed', async () => {
    const run = async () => {
      emu.reset();
      emu.faults.set({ throttleRate: 0.5 });
      const out: string[] = [];
      for (let i = 0; i < 12; i++) out.push(await bmu([rec(1, i % 2 ? 'd' : 'e')]).then(() => 'ok', (e: Error) => e.name));
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain('ThrottlingException');
    expect(a).toContain('ok');
  });

  it('serverErrorRate, resetRate and lostAnswerRate of 1 always fire', async () => {
    emu.faults.set({ serverErrorRate: 1 });
    expect(await errorOf(() => bmu())).toBeInstanceOf(InternalServiceErrorException);
    expect(emu.inspect.records()).toEqual([]);
    emu.faults.reset();
    emu.faults.set({ resetRate: 1 });
    expect((await errorOf(() => bmu())).name).not.toMatch(/Exception$/);
    emu.faults.reset();
    emu.faults.set({ lostAnswerRate: 1 });
    await errorOf(() => bmu([rec(4)]));
    expect(emu.inspect.totalFor({})).toBe(4);
  });

  it('unprocessedRate returns records in UnprocessedRecords without applying them', async () => {
    emu.faults.set({ unprocessedRate: 1 });
    const out = await bmu([rec(2)]);
    expect(out.Results).toEqual([]);
    expect(out.UnprocessedRecords).toEqual([expect.objectContaining({ Dimension: 'd', Quantity: 2, LicenseArn: sub.licenseArn })]);
    expect(emu.inspect.records()).toEqual([]);
  });

  it('latencyMs delays answers', async () => {
    emu.faults.set({ latencyMs: 120 });
    const t0 = Date.now();
    await bmu();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('validates fault options', () => {
    expect(() => emu.faults.set({ throttleRate: 2 })).toThrow(/0 to 1/);
    expect(() => emu.faults.failNext('BatchMeterUsage', 'x', 0)).toThrow(/count/);
  });
});

describe('region and disabled APIs', () => {
  it('answers DisabledApiException for disabled operations and region errors for MeterUsage/RegisterUsage', async () => {
    const emu = await startEmulator({ region: 'eu-west-1', products: [{ productCode: 'p', dimensions: ['d'] }], disabledOperations: ['BatchMeterUsage', 'ResolveCustomer'] });
    try {
      const c = clientFor(emu, 'eu-west-1');
      expect(await errorOf(() => c.send(new BatchMeterUsageCommand({ UsageRecords: [] })))).toBeInstanceOf(DisabledApiException);
      expect(await errorOf(() => c.send(new ResolveCustomerCommand({ RegistrationToken: 'x' })))).toBeInstanceOf(DisabledApiException);
      const wrong = clientFor(emu, 'us-west-2');
      expect(await errorOf(() => wrong.send(new MeterUsageCommand({ ProductCode: 'p', Timestamp: new Date(), UsageDimension: 'd' })))).toBeInstanceOf(
        InvalidEndpointRegionException,
      );
      expect(await errorOf(() => wrong.send(new RegisterUsageCommand({ ProductCode: 'p', PublicKeyVersion: 1 })))).toBeInstanceOf(InvalidRegionException);
      expect((await c.send(new MeterUsageCommand({ ProductCode: 'p', Timestamp: new Date(), UsageDimension: 'd' }))).MeteringRecordId).toBeDefined();
    } finally {
      await emu.close();
    }
  });
});
