import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { Emulator } from '@meterkit/emulator';
import { createMetering, type Metering } from '@meterkit/core';
import { InjectMetering, Metered, MeteringModule, MeteringService, type MeteringModuleOptions } from '../src';
import { coreOptions, PRODUCT, startProductEmulator } from './support/emulator';
import { listen, PLATFORMS } from './support/platforms';

/** A ConfigService look-alike: values by key, provided by a module of its own. */
class ConfigService {
  constructor(private readonly values: Record<string, string>) {}
  get(key: string): string {
    const value = this.values[key];
    if (value === undefined) throw new Error(`missing config ${key}`);
    return value;
  }
}

@Module({})
class ConfigModule {
  static forValues(values: Record<string, string>) {
    return { module: ConfigModule, providers: [{ provide: ConfigService, useValue: new ConfigService(values) }], exports: [ConfigService] };
  }
}

@Injectable()
class BillingService {
  constructor(
    readonly service: MeteringService,
    @InjectMetering() readonly metering: Metering,
  ) {}
}

@Controller('search')
class SearchController {
  constructor(@Inject(BillingService) private readonly billing: BillingService) {}

  @Get()
  @Metered('api_calls', 3)
  async search(): Promise<{ mode: string }> {
    return { mode: (await this.billing.service.status()).mode };
  }
}

/** A feature module that does not import MeteringModule: it relies on isGlobal. */
@Module({ providers: [BillingService], controllers: [SearchController] })
class SearchModule {}

describe.each(PLATFORMS)('MeteringModule.forRootAsync on %s', (_name, platform) => {
  let emu: Emulator;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    emu = await startProductEmulator();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await emu.close();
  });

  it('builds the options from a ConfigService-style factory and is global to feature modules', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MeteringModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule.forValues({ REGISTRATION_PATH: '/aws/fulfillment', TENANT_HEADER: 'x-workspace' })],
          inject: [ConfigService],
          useFactory: (config: ConfigService): MeteringModuleOptions => ({
            ...coreOptions(emu),
            identify: (req: { headers: Record<string, string | undefined> }) => req.headers[config.get('TENANT_HEADER')],
            registration: { path: config.get('REGISTRATION_PATH'), onRegistered: () => ({ tenantId: 'workspace-1' }) },
          }),
        }),
        SearchModule,
      ],
    }).compile();
    app = platform.create(moduleRef);
    const url = await listen(app);

    const subscription = await emu.subscribe({ productCode: PRODUCT, registrationUrl: `${url}/aws/fulfillment` });
    expect(subscription.registration).toMatchObject({ status: 200 });
    expect(JSON.parse(subscription.registration!.body)).toEqual({ registered: true, productCode: PRODUCT });

    const search = await request(url).get('/search').set('x-workspace', 'workspace-1');
    expect(search.status).toBe(200);
    expect(search.body).toEqual({ mode: 'live' });
    const billing = app.get(BillingService);
    expect(billing.metering).toBe(billing.service.metering);

    emu.clock.advance(75 * 60_000);
    await billing.service.flush();
    expect(emu.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' })).toBe(3);
  });

  it('takes the options from a useClass factory', async () => {
    @Injectable()
    class MeteringConfig {
      createMeteringOptions(): MeteringModuleOptions {
        return { ...coreOptions(emu), mode: 'dry-run' };
      }
    }
    const moduleRef = await Test.createTestingModule({ imports: [MeteringModule.forRootAsync({ useClass: MeteringConfig })] }).compile();
    app = platform.create(moduleRef);
    await app.init();
    expect(app.get(MeteringService).metering.mode).toBe('dry-run');
  });
});

describe('MeteringModule lifecycle and options', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startProductEmulator();
  });
  afterAll(() => emu.close());

  it('starts an existing Metering with the app and closes it on shutdown; without registration there is no route', async () => {
    const metering = createMetering(coreOptions(emu));
    const start = jest.spyOn(metering, 'start');
    const close = jest.spyOn(metering, 'close');
    const moduleRef = await Test.createTestingModule({ imports: [MeteringModule.forRoot({ metering })] }).compile();
    const app = PLATFORMS[0]![1].create(moduleRef);
    const url = await listen(app);
    expect(start).toHaveBeenCalledTimes(1);
    expect((await request(url).post('/marketplace/register').type('form').send('x=1')).status).toBe(404);
    expect(close).not.toHaveBeenCalled();

    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
    await expect(metering.meterFor('anyone')).rejects.toMatchObject({ code: 'ERR_METERKIT_CLOSED' });
  });

  it('refuses invalid adapter options when the module is created', async () => {
    const compile = (options: Partial<MeteringModuleOptions>) =>
      Test.createTestingModule({ imports: [MeteringModule.forRoot({ ...coreOptions(emu), ...options } as MeteringModuleOptions)] }).compile();
    await expect(compile({ registration: { path: 'no-leading-slash' } })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await expect(compile({ identify: 'tenant' as never })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await expect(compile({ registration: { path: '/r', rateLimitPerMinute: -1 } })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
  });
});
