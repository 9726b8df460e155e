import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { silentLogger, type Metering, type RequestMeter } from '@meterkit/core';
import { METERING, Meter, Metered, MeteringModule } from '../src';
import { listen, PLATFORMS, type Platform } from './support/platforms';

const PRODUCT = 'prod-nest-declared';

@Controller('feature')
class FeatureController {
  @Get('metered')
  @Metered('api_calls', 2)
  metered(): { ok: true } {
    return { ok: true };
  }

  @Get('meter')
  meter(@Meter() meter: RequestMeter | null): { metered: boolean } {
    meter?.record('api_calls', 3);
    return { metered: meter !== null };
  }

  @Get('both')
  @Metered('api_calls')
  both(@Meter() meter: RequestMeter | null): { metered: boolean } {
    meter?.record('api_calls', 10);
    return { metered: meter !== null };
  }

  @Get('health')
  health(): { ok: true } {
    return { ok: true };
  }
}

/** A feature module that does not import MeteringModule: its routes are metered all the same. */
@Module({ controllers: [FeatureController] })
class FeatureModule {}

describe.each(PLATFORMS)('routes that declare metering, on %s', (_name, platform: Platform) => {
  let emu: Emulator;
  let app: INestApplication | undefined;
  let identified: number;

  beforeEach(async () => {
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }] });
    identified = 0;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await emu.close();
  });

  it('meters the routes that declare it, once per request, in a module without MeteringModule; a route that declares nothing never runs identify', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MeteringModule.forRoot({
          products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }],
          store: 'memory',
          aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
          clock: () => emu.clock.now(),
          logger: silentLogger,
          manageLifecycle: false,
          identify: (req: { headers: Record<string, string | undefined> }) => {
            identified += 1;
            return req.headers['x-tenant'];
          },
        }),
        FeatureModule,
      ],
    }).compile();
    app = platform.create(moduleRef);
    const url = await listen(app);
    const metering = app.get<Metering>(METERING);
    const subscription = await emu.subscribe({ productCode: PRODUCT });
    const customer = await metering.resolveRegistration(subscription.token);
    await metering.linkTenant(customer.key, 'acme');

    expect((await request(url).get('/feature/health').set('x-tenant', 'acme')).status).toBe(200);
    expect(identified).toBe(0);
    expect((await request(url).get('/feature/metered').set('x-tenant', 'acme')).status).toBe(200);
    expect((await request(url).get('/feature/meter').set('x-tenant', 'acme')).body).toEqual({ metered: true });
    expect((await request(url).get('/feature/both').set('x-tenant', 'acme')).body).toEqual({ metered: true });
    expect(identified).toBe(3);

    await app.close();
    app = undefined;
    await metering.persist();
    const records = await metering.store.listRecords();
    await metering.close();
    expect(records.reduce((sum, r) => sum + r.quantity, 0)).toBe(2 + 3 + 1 + 10);
  });
});
