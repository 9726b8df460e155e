import { generateKeyPairSync } from 'node:crypto';
import { MarketplaceMeteringClient, type RegisterUsageCommandInput } from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { SignJWT, decodeJwt, importPKCS8 } from 'jose';
import { createMetering, entitlementGate, silentLogger, type EntitlementOptions, type Metering, type MeteringEvents } from '../src';

const CONTAINER = 'prod-container';
const CREDENTIALS = { accessKeyId: 'task-role', secretAccessKey: 'test' };

type Rewrite = (signature: string) => Promise<string> | string;

interface Started {
  metering: Metering;
  client: MarketplaceMeteringClient;
  /** RegisterUsage requests as the SDK sent them. */
  requests: RegisterUsageCommandInput[];
}

describe('entitlement with RegisterUsage (paid container products)', () => {
  let emu: Emulator;
  const open: Started[] = [];

  beforeAll(async () => {
    emu = await startEmulator({ products: [{ productCode: CONTAINER, dimensions: ['tasks'] }] });
  });
  beforeEach(() => emu.reset());
  afterEach(async () => {
    for (const s of open.splice(0)) {
      await s.metering.close().catch(() => undefined);
      s.client.destroy();
    }
  });
  afterAll(() => emu.close());

  /** A Metering instance on a real SDK client; `rewrite` tampers with the Signature AWS answered. */
  function start(entitlement: Partial<EntitlementOptions> = {}, rewrite?: Rewrite, region = 'us-east-1'): Started {
    const client = new MarketplaceMeteringClient({ region, endpoint: emu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    const requests: RegisterUsageCommandInput[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'RegisterUsageCommand') requests.push({ ...(args.input as RegisterUsageCommandInput) });
        const result = await next(args);
        const output = result.output as { Signature?: string };
        if (rewrite !== undefined && typeof output.Signature === 'string') output.Signature = await rewrite(output.Signature);
        return result;
      },
      { step: 'initialize', name: 'observeRegisterUsage' },
    );
    const metering = createMetering({
      products: [{ productCode: CONTAINER, dimensions: ['tasks'], identity: 'product' }],
      store: 'memory',
      aws: { client },
      logger: silentLogger,
      autoStart: false,
      entitlement: { productCode: CONTAINER, publicKeyVersion: 1, publicKeys: { 1: emu.publicKeyPem(1) }, baseDelayMs: 1, maxDelayMs: 5, ...entitlement },
    });
    const started = { metering, client, requests };
    open.push(started);
    return started;
  }

  it('refuses traffic while pending and lets it through once the signed answer verifies', async () => {
    const { metering, requests } = start();
    const gate = entitlementGate(metering);
    expect(metering.entitlement()).toEqual({ state: 'pending' });
    expect(gate.check()).toMatchObject({ ok: false, status: 503, body: { error: { code: 'ERR_METERKIT_ENTITLEMENT_PENDING' } } });

    const status = await metering.registerUsage();

    expect(status).toMatchObject({ state: 'entitled', productCode: CONTAINER, publicKeyVersion: 1 });
    expect(metering.entitlement()).toBe(status);
    expect(gate.check()).toEqual({ ok: true });
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(1);
    expect(requests[0]).toMatchObject({ ProductCode: CONTAINER, PublicKeyVersion: 1, Nonce: expect.any(String) });
    // Cached: asking again does not call AWS again.
    await metering.registerUsage();
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(1);
  });

  it('registers by itself when the timers start, with a fresh nonce per start', async () => {
    const first = start();
    const second = start();
    first.metering.start();
    second.metering.start();
    await Promise.all([first.metering.registerUsage(), second.metering.registerUsage()]);
    expect(first.metering.entitlement().state).toBe('entitled');
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(2);
    expect(first.requests[0]!.Nonce).not.toBe(second.requests[0]!.Nonce);
  });

  it('retries throttling and AWS faults, then is entitled', async () => {
    const { metering } = start();
    emu.faults.failNext('RegisterUsage', 'ThrottlingException');
    emu.faults.failNext('RegisterUsage', 'InternalServiceErrorException');
    await expect(metering.registerUsage()).resolves.toMatchObject({ state: 'entitled' });
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(3);
  });

  it('refuses an unentitled buyer with a typed error, emits it, and the gate keeps answering 503', async () => {
    const { metering } = start();
    const errors: MeteringEvents['error'][] = [];
    metering.on('error', (e) => errors.push(e));
    emu.faults.failNext('RegisterUsage', 'CustomerNotEntitledException');

    await expect(metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_NOT_ENTITLED', awsException: 'CustomerNotEntitledException' });

    expect(metering.entitlement()).toMatchObject({ state: 'refused', error: { code: 'ERR_METERKIT_NOT_ENTITLED' } });
    expect(errors.map((e) => e.error.code)).toEqual(['ERR_METERKIT_NOT_ENTITLED']);
    expect(entitlementGate(metering).check()).toMatchObject({ ok: false, status: 503, body: { error: { code: 'ERR_METERKIT_NOT_ENTITLED' } } });
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(1);
  });

  it.each([
    ['PlatformNotSupportedException', 'ERR_METERKIT_PLATFORM_NOT_SUPPORTED'],
    ['DisabledApiException', 'ERR_METERKIT_ENTITLEMENT_FAILED'],
  ])('maps %s to %s without retrying', async (exception, code) => {
    const { metering } = start();
    emu.faults.failNext('RegisterUsage', exception);
    await expect(metering.registerUsage()).rejects.toMatchObject({ code, awsException: exception });
    expect(emu.inspect.calls('RegisterUsage')).toHaveLength(1);
  });

  it('reports an unknown public key version and a call from another region as configuration errors of their own', async () => {
    const unknownVersion = start({ publicKeyVersion: 7, publicKeys: { 7: emu.publicKeyPem(1) } });
    await expect(unknownVersion.metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_PUBLIC_KEY_VERSION', awsException: 'InvalidPublicKeyVersionException' });
    const elsewhere = start({}, undefined, 'eu-west-1');
    await expect(elsewhere.metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_ENTITLEMENT_REGION', awsException: 'InvalidRegionException' });
  });

  it('gives up on transient failures once retryForMs has passed', async () => {
    const { metering } = start({ retryForMs: 0 });
    emu.faults.failNext('RegisterUsage', 'ThrottlingException');
    await expect(metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_ENTITLEMENT_FAILED', awsException: 'ThrottlingException' });
  });

  describe('refuses a signature it cannot trust', () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

    it.each<[string, Rewrite]>([
      [
        're-signed with another key',
        async (jwt) =>
          new SignJWT(decodeJwt(jwt))
            .setProtectedHeader({ alg: 'PS256', typ: 'JWT' })
            .sign(await importPKCS8(otherKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'PS256')),
      ],
      ['with one character of the signature flipped', (jwt) => `${jwt.slice(0, -3)}${jwt.at(-3) === 'A' ? 'B' : 'A'}${jwt.slice(-2)}`],
      ['with a tampered payload', (jwt) => {
        const [header, , signature] = jwt.split('.');
        const payload = Buffer.from(JSON.stringify({ ...decodeJwt(jwt), ProductCode: 'prod-other' })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      }],
      ['with "alg": "none"', (jwt) => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return `${header}.${jwt.split('.')[1]}.`;
      }],
    ])('%s', async (_name, rewrite) => {
      const { metering } = start({}, rewrite);
      await expect(metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_ENTITLEMENT_SIGNATURE' });
      expect(metering.entitlement().state).toBe('refused');
      expect(entitlementGate(metering).check()).toMatchObject({ ok: false, body: { error: { code: 'ERR_METERKIT_ENTITLEMENT_SIGNATURE' } } });
    });

    it('replayed from an earlier start (another nonce)', async () => {
      const earlier = start();
      let captured = '';
      earlier.client.middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          captured = (result.output as { Signature: string }).Signature;
          return result;
        },
        { step: 'initialize', name: 'capture' },
      );
      await earlier.metering.registerUsage();
      const replayed = start({}, () => captured);
      await expect(replayed.metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_ENTITLEMENT_SIGNATURE' });
    });

    it('signed by AWS with a key the product no longer trusts', async () => {
      const { metering } = start({ publicKeyPem: otherKey.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
      await expect(metering.registerUsage()).rejects.toMatchObject({ code: 'ERR_METERKIT_ENTITLEMENT_SIGNATURE' });
    });
  });

  it('validates the entitlement options once, at creation', () => {
    expect(() => start({ publicKeyVersion: 0 })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
    expect(() => start({ publicKeys: {}, publicKeyVersion: 2 })).toThrow(expect.objectContaining({ code: 'ERR_METERKIT_OPTIONS' }));
  });
});
