import {
  DuplicateRequestException,
  IdempotencyConflictException,
  InvalidProductCodeException,
  InvalidPublicKeyVersionException,
  InvalidTagException,
  InvalidUsageAllocationsException,
  InvalidUsageDimensionException,
  MeterUsageCommand,
  RegisterUsageCommand,
  TimestampOutOfBoundsException,
} from '@aws-sdk/client-marketplace-metering';
import { randomUUID } from 'node:crypto';
import { startEmulator, verifyRegisterUsageSignature, type Emulator } from '../src';
import { HOUR, clientFor, errorOf } from './helpers';

const NOW = Date.UTC(2026, 6, 15, 12, 20);
const T = new Date(Date.UTC(2026, 6, 15, 12, 5));

describe('MeterUsage', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, products: [{ productCode: 'ami-prod', dimensions: ['vcpu', 'gb'] }] });
  });
  afterAll(() => emu.close());
  beforeEach(() => {
    emu.reset();
    emu.clock.set(NOW);
  });
  const mu = (over: Partial<ConstructorParameters<typeof MeterUsageCommand>[0]> = {}, key = 'instance-a') =>
    clientFor(emu, 'us-east-1', key).send(new MeterUsageCommand({ ProductCode: 'ami-prod', Timestamp: T, UsageDimension: 'vcpu', UsageQuantity: 4, ...over }));

  it('meters once per caller, product, dimension and hour; identical reports return the same id', async () => {
    const a = await mu();
    const b = await mu({ Timestamp: new Date(T.getTime() + 10 * 60_000) });
    expect(a.MeteringRecordId).toBeDefined();
    expect(b.MeteringRecordId).toBe(a.MeteringRecordId);
    expect(emu.inspect.totalFor({ dimension: 'vcpu' })).toBe(4);
    const other = await mu({}, 'instance-b');
    expect(other.MeteringRecordId).not.toBe(a.MeteringRecordId);
    expect(emu.inspect.totalFor({ dimension: 'vcpu' })).toBe(8);
  });

  it('answers DuplicateRequestException for another quantity in the same hour', async () => {
    await mu();
    expect(await errorOf(() => mu({ UsageQuantity: 5 }))).toBeInstanceOf(DuplicateRequestException);
    expect(emu.inspect.totalFor({ dimension: 'vcpu' })).toBe(4);
    expect(emu.inspect.duplicates()).toHaveLength(1);
  });

  it('is idempotent per ClientToken and answers 409 IdempotencyConflictException on reuse with other parameters', async () => {
    const token = randomUUID();
    const a = await mu({ ClientToken: token });
    expect((await mu({ ClientToken: token })).MeteringRecordId).toBe(a.MeteringRecordId);
    const err = await errorOf(() => mu({ ClientToken: token, UsageDimension: 'gb' }));
    expect(err).toBeInstanceOf(IdempotencyConflictException);
    expect(err.$metadata?.httpStatusCode).toBe(409);
    expect(emu.inspect.totalFor({ dimension: 'gb' })).toBe(0);
  });

  it('applies the 6-hour window, product, dimension, allocation and tag checks', async () => {
    expect((await mu({ Timestamp: new Date(NOW - 5 * HOUR), UsageDimension: 'gb' })).MeteringRecordId).toBeDefined();
    expect(await errorOf(() => mu({ Timestamp: new Date(NOW - 6 * HOUR - 1000) }))).toBeInstanceOf(TimestampOutOfBoundsException);
    expect(await errorOf(() => mu({ ProductCode: 'nope' }))).toBeInstanceOf(InvalidProductCodeException);
    expect(await errorOf(() => mu({ UsageDimension: 'nope' }))).toBeInstanceOf(InvalidUsageDimensionException);
    expect(await errorOf(() => mu({ UsageAllocations: [{ AllocatedUsageQuantity: 3 }] }))).toBeInstanceOf(InvalidUsageAllocationsException);
    expect(await errorOf(() => mu({ UsageAllocations: [{ AllocatedUsageQuantity: 4, Tags: [{ Key: 'k', Value: '' }] }] }))).toBeInstanceOf(InvalidTagException);
    expect((await errorOf(() => mu({ UsageQuantity: -1 }))).name).toBe('ValidationException');
    expect((await errorOf(() => mu({ ClientToken: 'x'.repeat(65) }))).name).toBe('ValidationException');
  });

  it('answers DryRunOperation for a dry run and meters nothing', async () => {
    const err = await errorOf(() => mu({ DryRun: true }));
    expect(err.name).toBe('DryRunOperation');
    expect(emu.inspect.records()).toEqual([]);
  });
});

describe('RegisterUsage', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, products: [{ productCode: 'container-prod', dimensions: ['tasks'] }] });
  });
  afterAll(() => emu.close());

  it('returns a PS256 JWT over the request claims that verifies with the published public key', async () => {
    // The emulated clock runs with real time: iat lies between the clock before and after the call.
    const before = Math.floor(emu.clock.now() / 1000);
    const out = await clientFor(emu).send(new RegisterUsageCommand({ ProductCode: 'container-prod', PublicKeyVersion: 1, Nonce: 'n-123' }));
    const after = Math.floor(emu.clock.now() / 1000);
    const jwt = out.Signature as string;
    expect(JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString())).toEqual({ alg: 'PS256', typ: 'JWT' });
    const pem = await (await fetch(`${emu.endpoint}/_emulator/public-key?version=1`)).text();
    expect(pem).toBe(emu.publicKeyPem(1));
    const claims = verifyRegisterUsageSignature(jwt, pem);
    expect(claims).toEqual({ ProductCode: 'container-prod', PublicKeyVersion: 1, Nonce: 'n-123', iat: expect.any(Number) });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(after);
    const tampered = `${jwt.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, ProductCode: 'x' })).toString('base64url')}.${jwt.split('.')[2]}`;
    expect(() => verifyRegisterUsageSignature(tampered, pem)).toThrow(/Bad signature/);
    expect(out.PublicKeyRotationTimestamp).toBeUndefined();
  });

  it('reports PublicKeyRotationTimestamp for a rotated key version', async () => {
    const v2 = emu.rotatePublicKey();
    expect(v2).toBe(2);
    const old = await clientFor(emu).send(new RegisterUsageCommand({ ProductCode: 'container-prod', PublicKeyVersion: 1 }));
    expect(old.PublicKeyRotationTimestamp).toBeInstanceOf(Date);
    const cur = await clientFor(emu).send(new RegisterUsageCommand({ ProductCode: 'container-prod', PublicKeyVersion: 2 }));
    expect(verifyRegisterUsageSignature(cur.Signature as string, emu.publicKeyPem(2)).PublicKeyVersion).toBe(2);
    expect(() => verifyRegisterUsageSignature(cur.Signature as string, emu.publicKeyPem(1))).toThrow();
  });

  it('validates product, key version and nonce', async () => {
    const c = clientFor(emu);
    expect(await errorOf(() => c.send(new RegisterUsageCommand({ ProductCode: 'nope', PublicKeyVersion: 1 })))).toBeInstanceOf(InvalidProductCodeException);
    expect(await errorOf(() => c.send(new RegisterUsageCommand({ ProductCode: 'container-prod', PublicKeyVersion: 99 })))).toBeInstanceOf(
      InvalidPublicKeyVersionException,
    );
    expect((await errorOf(() => c.send(new RegisterUsageCommand({ ProductCode: 'container-prod', PublicKeyVersion: 0 })))).name).toBe('ValidationException');
    expect((await errorOf(() => c.send(new RegisterUsageCommand({ ProductCode: 'container-prod', PublicKeyVersion: 1, Nonce: 'n'.repeat(256) })))).name).toBe(
      'ValidationException',
    );
  });
});
