import 'reflect-metadata';
import { Controller, Get, Module, UseGuards, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { ErrorCodes, silentLogger, type Metering, type RequestMeter } from '@meterkit/core';
import { METERING, Meter, MeteringModule, RequireEntitlement } from '../src';
import { listen, PLATFORMS, type Platform } from './support/platforms';

const PRODUCT = 'prod-nest-contract';
const ENTITLEMENTS = ['seats', 'sso'];

@Controller('team')
@RequireEntitlement('seats')
class TeamController {
  @Get()
  list(@Meter() meter: RequestMeter | null): { seats: unknown } {
    return { seats: meter?.entitlement('seats').value };
  }

  @Get('sso')
  @RequireEntitlement('sso')
  sso(): { sso: true } {
    return { sso: true };
  }
}

/** The app's authentication: puts the tenant of the API key on the request, as `identify` reads it. */
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; tenant?: string }>();
    request.tenant = request.headers['x-api-key']?.replace(/^key-/, '');
    return true;
  }
}

/** The usual order of decorators: authentication first, then what the route needs. */
@Controller('billing')
@UseGuards(ApiKeyGuard)
@RequireEntitlement('seats')
class BillingController {
  @Get()
  show(): { ok: true } {
    return { ok: true };
  }
}

/** A feature module of the app: the check resolves in it through the MeteringModule it imports. */
@Module({ controllers: [TeamController, BillingController] })
class TeamModule {}

describe.each(PLATFORMS)('@RequireEntitlement() on %s', (_name, platform: Platform) => {
  let emu: Emulator;
  let app: INestApplication | undefined;
  let identified: number;

  beforeEach(async () => {
    emu = await startEmulator({
      now: Date.parse('2026-07-15T10:20:00Z'),
      products: [{ productCode: PRODUCT, dimensions: [], pricing: 'contract', contractDimensions: ENTITLEMENTS }],
    });
    identified = 0;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await emu.close();
  });

  async function start(): Promise<{ url: string; metering: Metering }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MeteringModule.forRoot({
          isGlobal: true,
          products: [{ productCode: PRODUCT, dimensions: [], pricing: 'contract', entitlements: ENTITLEMENTS }],
          store: 'memory',
          aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
          clock: () => emu.clock.now(),
          logger: silentLogger,
          retry: { baseDelayMs: 1, maxDelayMs: 5 },
          manageLifecycle: false,
          identify: (req: { headers: Record<string, string | undefined>; tenant?: string }) => {
            identified += 1;
            return req.tenant ?? req.headers['x-tenant'];
          },
        }),
        TeamModule,
      ],
    }).compile();
    app = platform.create(moduleRef);
    const url = await listen(app);
    return { url, metering: app.get<Metering>(METERING) };
  }

  it('applies the controller\'s and the handler\'s requirements, and runs identify once per request (the check reuses the request\'s meter)', async () => {
    const { url, metering } = await start();
    const subscription = await emu.subscribe({ productCode: PRODUCT, contract: { dimensions: { seats: 5 } } });
    const customer = await metering.resolveRegistration(subscription.token);
    await metering.linkTenant(customer.key, 'acme');

    const team = await request(url).get('/team').set('x-tenant', 'acme');
    expect([team.status, team.body]).toEqual([200, { seats: 5 }]);
    expect(identified).toBe(1);

    const sso = await request(url).get('/team/sso').set('x-tenant', 'acme');
    expect([sso.status, sso.body.error.code, sso.headers['cache-control']]).toEqual([403, ErrorCodes.ENTITLEMENT_REQUIRED, 'no-store']);
    expect(identified).toBe(2);

    const nobody = await request(url).get('/team');
    expect([nobody.status, nobody.body.error.code]).toEqual([403, ErrorCodes.ENTITLEMENT_REQUIRED]);
  });

  it('checks after every guard, whatever the order of the decorators: identify sees what the auth guard set', async () => {
    const { url, metering } = await start();
    const subscription = await emu.subscribe({ productCode: PRODUCT, contract: { dimensions: { seats: 5 } } });
    const customer = await metering.resolveRegistration(subscription.token);
    await metering.linkTenant(customer.key, 'acme');

    expect((await request(url).get('/billing').set('x-api-key', 'key-acme')).status).toBe(200);
    expect((await request(url).get('/billing').set('x-api-key', 'key-nobody')).status).toBe(403);
  });
});
