import 'reflect-metadata';
import { ForbiddenException, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { Emulator } from '@meterkit/emulator';
import type { Metering, MeterkitError } from '@meterkit/core';
import { METERING, MeteringModule, type MeteringModuleOptions } from '../src';
import { CheckedController, ReportsController, UploadsController } from './support/controllers';
import { coreOptions, PRODUCT, startProductEmulator } from './support/emulator';
import { listen, PLATFORMS, type Platform } from './support/platforms';

const REGISTER = '/marketplace/register';
const HOUR = 3_600_000;

interface Harness {
  app: INestApplication;
  url: string;
  metering: Metering;
  errors: MeterkitError[];
}

async function startApp(platform: Platform, emu: Emulator, overrides: Partial<MeteringModuleOptions> = {}): Promise<Harness> {
  const errors: MeterkitError[] = [];
  let tenants = 0;
  const moduleRef = await Test.createTestingModule({
    imports: [
      MeteringModule.forRoot({
        ...coreOptions(emu),
        identify: (req: { headers: Record<string, string | undefined> }) => {
          if (req.headers['x-tenant'] === 'explode') throw new Error('auth service down');
          return req.headers['x-tenant'];
        },
        onMeteringError: (error) => errors.push(error),
        registration: {
          path: REGISTER,
          onRegistered: () => {
            tenants += 1;
            return { tenantId: `tenant-${tenants}`, redirect: `/welcome?tenant=tenant-${tenants}` };
          },
        },
        ...overrides,
      } as MeteringModuleOptions),
    ],
    controllers: [ReportsController, UploadsController, CheckedController],
  }).compile();
  const app = platform.create(moduleRef);
  const url = await listen(app);
  return { app, url, metering: app.get<Metering>(METERING), errors };
}

describe.each(PLATFORMS)('MeteringModule on %s', (_name, platform) => {
  let emu: Emulator;
  let h: Harness;

  beforeAll(async () => {
    emu = await startProductEmulator();
    h = await startApp(platform, emu);
  });

  afterAll(async () => {
    await h?.app.close();
    await emu?.close();
  });

  /** A buyer subscribes on the emulator, which posts the token to the app like AWS Marketplace does. */
  async function register(): Promise<{ tenant: string; licenseArn: string }> {
    const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: h.url + REGISTER });
    expect(subscription.registration?.status).toBe(303);
    const tenant = new URL(subscription.registration!.location!, h.url).searchParams.get('tenant')!;
    return { tenant, licenseArn: subscription.licenseArn! };
  }

  async function closeHourAndFlush(): Promise<void> {
    emu.clock.advance(HOUR + 15 * 60_000);
    await h.metering.flush();
  }

  const total = (licenseArn: string, dimension: string) => emu.inspect.totalFor({ licenseArn, dimension });

  it('bills @Metered() controllers and handlers and @Meter() quantities, with exact totals after a flush', async () => {
    const { tenant, licenseArn } = await register();
    for (let i = 0; i < 3; i++) expect((await request(h.url).get('/reports').set('x-tenant', tenant)).status).toBe(200);
    expect((await request(h.url).get('/reports/heavy').set('x-tenant', tenant)).status).toBe(200);
    const upload = await request(h.url).post('/uploads').set('x-tenant', tenant).send({ gb: 7 });
    expect(upload.status).toBe(201);
    expect(upload.body).toEqual({ metered: true });
    await request(h.url).post('/uploads').set('x-tenant', tenant).send({ gb: 5 });

    await closeHourAndFlush();

    // 3 x list (1) + heavy (controller 1 + handler 4); 2 (heavy) + 7 + 5 GB
    expect(total(licenseArn, 'api_calls')).toBe(8);
    expect(total(licenseArn, 'gb_processed')).toBe(14);
    expect(emu.inspect.duplicates()).toEqual([]);
  });

  it('meters a customer it already knows without reading the store, and bills each request once', async () => {
    const { tenant, licenseArn } = await register();
    expect((await request(h.url).get('/reports').set('x-tenant', tenant)).status).toBe(200);
    const reads = jest.spyOn(h.metering.store, 'findCustomerByTenant');
    try {
      for (let i = 0; i < 2; i++) expect((await request(h.url).get('/reports').set('x-tenant', tenant)).status).toBe(200);
      expect(reads).not.toHaveBeenCalled();
    } finally {
      reads.mockRestore();
    }
    await closeHourAndFlush();
    expect(total(licenseArn, 'api_calls')).toBe(3);
  });

  it('bills nothing for a refused request (400 pipe or validation, 403 guard, 404) nor a 5xx, and a 2xx exactly', async () => {
    const { tenant, licenseArn } = await register();
    expect((await request(h.url).get('/reports/failing').set('x-tenant', tenant)).status).toBe(500);
    expect((await request(h.url).post('/uploads/broken').set('x-tenant', tenant).send({ gb: 9 })).status).toBe(500);
    expect((await request(h.url).get('/reports/missing').set('x-tenant', tenant)).status).toBe(404);
    expect((await request(h.url).get('/checked/pages?count=many').set('x-tenant', tenant)).status).toBe(400);
    expect((await request(h.url).get('/checked/admin').set('x-tenant', tenant)).status).toBe(403);
    expect((await request(h.url).post('/checked/import').set('x-tenant', tenant).send({ gb: 'lots' })).status).toBe(400);
    expect((await request(h.url).get('/reports').set('x-tenant', tenant)).status).toBe(200);
    expect((await request(h.url).get('/checked/pages?count=2').set('x-tenant', tenant)).status).toBe(200);

    await closeHourAndFlush();

    expect(total(licenseArn, 'api_calls')).toBe(2);
    expect(total(licenseArn, 'gb_processed')).toBe(3);
  });

  it('with a policy billing 4xx answers, @Metered() usage of a request a pipe or the handler refused is billed like any 4xx answer (it is recorded once the guards let the request through); a 5xx is not', async () => {
    const lenient = await startApp(platform, emu, { commitPolicy: { commitOn: (status) => status < 500 } });
    try {
      const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: lenient.url + REGISTER });
      const tenant = new URL(subscription.registration!.location!, lenient.url).searchParams.get('tenant')!;
      expect((await request(lenient.url).get('/checked/pages?count=many').set('x-tenant', tenant)).status).toBe(400);
      expect((await request(lenient.url).get('/checked/pages?count=1').set('x-tenant', tenant)).status).toBe(200);
      expect((await request(lenient.url).get('/reports/missing').set('x-tenant', tenant)).status).toBe(404);
      expect((await request(lenient.url).get('/reports/failing').set('x-tenant', tenant)).status).toBe(500);
      emu.clock.advance(HOUR + 15 * 60_000);
      await lenient.metering.flush();
      expect(total(subscription.licenseArn!, 'api_calls')).toBe(3);
      expect(total(subscription.licenseArn!, 'gb_processed')).toBe(6);
    } finally {
      await lenient.app.close();
    }
  });

  it('serves requests it cannot meter: unknown tenant, identify() throwing', async () => {
    const unknown = await request(h.url).post('/uploads').set('x-tenant', 'nobody').send({ gb: 3 });
    expect(unknown.status).toBe(201);
    expect(unknown.body).toEqual({ metered: false });
    expect((await request(h.url).get('/reports').set('x-tenant', 'explode')).status).toBe(200);
    expect((await request(h.url).post('/uploads').send({ gb: 1 })).body).toEqual({ metered: false });

    expect(h.errors.map((e) => e.code)).toEqual(['ERR_METERKIT_UNKNOWN_CUSTOMER', 'ERR_METERKIT_STORE']);
  });

  describe('registration input', () => {
    const post = () => request(h.url).post(REGISTER);

    it('answers a missing, invalid or expired token with 400 and a coded JSON error', async () => {
      const missing = await post().type('form').send('x-amzn-marketplace-offer-type=free-trial');
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ error: { code: 'ERR_METERKIT_TOKEN_MALFORMED', message: expect.any(String) } });

      const invalid = await post().type('form').send({ 'x-amzn-marketplace-token': 'not-a-token-from-aws' });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toMatch(/^ERR_METERKIT_TOKEN_(INVALID|MALFORMED)$/);

      const repeated = await post().type('form').send('x-amzn-marketplace-token=a&x-amzn-marketplace-token=b');
      expect(repeated.status).toBe(400);
      expect(repeated.body.error.code).toBe('ERR_METERKIT_TOKEN_MALFORMED');

      const buyer = await emu.subscribe({ productCode: PRODUCT });
      emu.clock.advance(5 * HOUR);
      const expired = await post().type('form').send({ 'x-amzn-marketplace-token': buyer.token });
      expect(expired.status).toBe(400);
      expect(expired.body.error.code).toBe('ERR_METERKIT_TOKEN_EXPIRED');
    });

    it('refuses a body that is not a urlencoded form (415) or is larger than the cap (413)', async () => {
      const json = await post().send({ 'x-amzn-marketplace-token': 'abc' });
      expect(json.status).toBe(415);
      expect(json.body.error.code).toBe('ERR_METERKIT_TOKEN_MALFORMED');

      const large = await post().type('form').send(`x-amzn-marketplace-token=${'a'.repeat(20_000)}`);
      expect(large.status).toBe(413);
      expect(large.body.error.code).toBe('ERR_METERKIT_TOKEN_MALFORMED');
    });

    it('keeps the status and message of a 4xx Nest exception thrown by the app hook', async () => {
      const refusing = await startApp(platform, emu, {
        registration: {
          path: REGISTER,
          onRegistered: () => {
            throw new ForbiddenException('This AWS account may not use the product.');
          },
        },
      });
      try {
        const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: refusing.url + REGISTER });
        expect(subscription.registration?.status).toBe(403);
        expect(JSON.parse(subscription.registration!.body)).toEqual({
          error: { code: 'ERR_METERKIT_REGISTRATION_FAILED', message: 'This AWS account may not use the product.' },
        });
      } finally {
        await refusing.app.close();
      }
    });

    it('limits registration posts per client address with 429', async () => {
      const limited = await startApp(platform, emu, { registration: { path: REGISTER, rateLimitPerMinute: 2 } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) statuses.push((await request(limited.url).post(REGISTER).type('form').send('x=1')).status);
        expect(statuses).toEqual([400, 400, 429]);
        const last = await request(limited.url).post(REGISTER).type('form').send('x=1');
        expect(last.body.error.code).toBe('ERR_METERKIT_RATE_LIMITED');
        expect(last.headers['retry-after']).toBe('60');
      } finally {
        await limited.app.close();
      }
    });
  });
});
