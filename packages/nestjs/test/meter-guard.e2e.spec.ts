import 'reflect-metadata';
import {
  Catch,
  Controller,
  ForbiddenException,
  Get,
  HttpException,
  Injectable,
  NotFoundException,
  Req,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { IncomingMessage } from 'node:http';
import request from 'supertest';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { silentLogger, type Metering, type RequestMeter } from '@meterkit/core';
import { METERING, Meter, Metered, MeteringModule, meterOf } from '../src';
import { billedUnitsAfterClose } from './support/billed-units';
import { listen, PLATFORMS, type Platform } from './support/platforms';

const PRODUCT = 'prod-nest-guard';

interface AuthenticatedRequest {
  headers: Record<string, string | undefined>;
  tenant?: string;
}

/** The app's authentication: refuses a request without an API key, puts the key's tenant on the request. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const key = request.headers['x-api-key'];
    if (key === undefined) return false;
    request.tenant = key.replace(/^key-/, '');
    return true;
  }
}

/** Every way of writing a method-level auth guard with a metering declaration. */
@Controller('method')
class MethodAuthController {
  @Get('metered-above')
  @Metered('api_calls', 1)
  @UseGuards(ApiKeyGuard)
  above(): { ok: true } {
    return { ok: true };
  }

  @Get('metered-below')
  @UseGuards(ApiKeyGuard)
  @Metered('api_calls', 2)
  below(): { ok: true } {
    return { ok: true };
  }

  @Get('meter-param')
  @UseGuards(ApiKeyGuard)
  param(@Meter() meter: RequestMeter | null): { metered: boolean } {
    meter?.record('api_calls', 4);
    return { metered: meter !== null };
  }
}

@Controller('controller-declared')
@Metered('api_calls', 8)
class ControllerDeclaredController {
  @Get()
  @UseGuards(ApiKeyGuard)
  show(): { ok: true } {
    return { ok: true };
  }
}

/** Authenticated by the app's global guard. */
@Controller('global')
class GlobalAuthController {
  @Get('metered')
  @Metered('api_calls', 3)
  metered(): { ok: true } {
    return { ok: true };
  }

  @Get('meter-param')
  param(@Meter() meter: RequestMeter | null): { metered: boolean } {
    meter?.record('api_calls', 5);
    return { metered: meter !== null };
  }
}

/** One handler inherited by several controllers. */
abstract class ItemsBase {
  @Get()
  @UseGuards(ApiKeyGuard)
  list(): { ok: true } {
    return { ok: true };
  }
}

@Controller('items-a')
@Metered('api_calls', 16)
class ItemsAController extends ItemsBase {}

@Controller('items-b')
@Metered('api_calls', 32)
class ItemsBController extends ItemsBase {}

@Controller('items-c')
class ItemsCController extends ItemsBase {}

/** A handler putting an app's own `raw` (a raw body, say) on Express's request after meterkit's guard bound the meter. */
@Controller('raw-body')
@UseGuards(ApiKeyGuard)
class RawBodyController {
  @Get()
  @Metered('api_calls', 128)
  show(@Req() request: object, @Meter() meter: RequestMeter | null): { metered: boolean } {
    if (request instanceof IncomingMessage) (request as { raw?: unknown }).raw = Buffer.from('{}');
    return { metered: meter !== null && meterOf(request) === meter };
  }
}

/** Exceptions of metered routes, answered by the app's exception filter. */
@Controller('answered')
@UseGuards(ApiKeyGuard)
@Metered('api_calls', 64)
class AnsweredController {
  @Get('fallback')
  fallback(): never {
    throw new NotFoundException('no such page');
  }

  @Get('forbidden')
  forbidden(): never {
    throw new ForbiddenException('not yours');
  }
}

/** The app's filter: its own body shape; a 404 becomes a 200 fallback page. */
@Catch(HttpException)
class ProblemFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const status = exception.getStatus() === 404 ? 200 : exception.getStatus();
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { problem: exception.message }, status);
  }
}

describe.each(PLATFORMS)('the meterkit route guard on %s', (name, platform: Platform) => {
  let emu: Emulator;
  let app: INestApplication | undefined;
  let metering: Metering;
  let seen: Array<{ tenant: string | undefined; platformRequest: boolean }>;

  beforeEach(async () => {
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }] });
    seen = [];
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await emu.close();
  });

  /** An app whose `identify` reads only what the auth guard set, with the tenant acme registered. */
  async function start(controllers: Array<new () => unknown>, providers: Provider[] = []): Promise<string> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MeteringModule.forRoot({
          products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }],
          store: 'memory',
          aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
          clock: () => emu.clock.now(),
          logger: silentLogger,
          manageLifecycle: false,
          identify: (req: AuthenticatedRequest) => {
            // The platform's request: a FastifyRequest holds Node's request as `raw`, Express's is Node's.
            seen.push({ tenant: req.tenant, platformRequest: name === 'fastify' ? 'raw' in req : !('raw' in req) });
            return req.tenant;
          },
        }),
      ],
      controllers,
      providers,
    }).compile();
    app = platform.create(moduleRef);
    const url = await listen(app);
    metering = app.get<Metering>(METERING);
    const subscription = await emu.subscribe({ productCode: PRODUCT });
    const customer = await metering.resolveRegistration(subscription.token);
    await metering.linkTenant(customer.key, 'acme');
    return url;
  }

  /** The units billed: the app closed, the engine's usage persisted. */
  async function billed(): Promise<number> {
    const closing = app!;
    app = undefined;
    return billedUnitsAfterClose(closing, metering);
  }

  it('runs after a route\'s auth guard whatever the order of the decorators: above or below @UseGuards(), a @Meter() parameter, a controller\'s @Metered()', async () => {
    const url = await start([MethodAuthController, ControllerDeclaredController]);
    for (const path of ['/method/metered-above', '/method/metered-below', '/controller-declared']) {
      expect((await request(url).get(path).set('x-api-key', 'key-acme')).status).toBe(200);
    }
    expect((await request(url).get('/method/meter-param').set('x-api-key', 'key-acme')).body).toEqual({ metered: true });
    // The auth guard refuses: meterkit's guard never runs.
    expect((await request(url).get('/method/metered-below')).status).toBe(403);

    expect(seen).toEqual(Array.from({ length: 4 }, () => ({ tenant: 'acme', platformRequest: true })));
    expect(await billed()).toBe(1 + 2 + 8 + 4);
  });

  it('runs after a global (APP_GUARD) auth guard', async () => {
    const url = await start([GlobalAuthController], [{ provide: APP_GUARD, useClass: ApiKeyGuard }]);
    expect((await request(url).get('/global/metered').set('x-api-key', 'key-acme')).status).toBe(200);
    expect((await request(url).get('/global/meter-param').set('x-api-key', 'key-acme')).body).toEqual({ metered: true });
    expect((await request(url).get('/global/metered')).status).toBe(403);

    expect(seen).toEqual([
      { tenant: 'acme', platformRequest: true },
      { tenant: 'acme', platformRequest: true },
    ]);
    expect(await billed()).toBe(3 + 5);
  });

  it('meters a handler inherited by several controllers by the declarations of the controller serving it; one that declares nothing runs no identify', async () => {
    const url = await start([ItemsAController, ItemsBController, ItemsCController]);
    for (const path of ['/items-a', '/items-b', '/items-c', '/items-a', '/items-b', '/items-c']) {
      expect((await request(url).get(path).set('x-api-key', 'key-acme')).status).toBe(200);
    }
    expect(seen).toHaveLength(4);
    expect(await billed()).toBe(2 * 16 + 2 * 32);
  });

  it('bills a metered route whose handler puts a `raw` of the app\'s on the Express request: the meter is bound on Node\'s request, where its response settles it', async () => {
    const url = await start([RawBodyController]);
    expect((await request(url).get('/raw-body').set('x-api-key', 'key-acme')).body).toEqual({ metered: true });
    expect(await billed()).toBe(128);
  });

  it('leaves the exceptions of metered routes to the app\'s exception filter, and bills by the status the filter answered', async () => {
    const url = await start([AnsweredController], [{ provide: APP_FILTER, useClass: ProblemFilter }]);
    const fallback = await request(url).get('/answered/fallback').set('x-api-key', 'key-acme');
    expect([fallback.status, fallback.body]).toEqual([200, { problem: 'no such page' }]);
    const forbidden = await request(url).get('/answered/forbidden').set('x-api-key', 'key-acme');
    expect([forbidden.status, forbidden.body]).toEqual([403, { problem: 'not yours' }]);
    const refused = await request(url).get('/answered/forbidden');
    expect([refused.status, refused.body]).toEqual([403, { problem: 'Forbidden resource' }]);

    expect(seen).toHaveLength(2);
    expect(await billed()).toBe(64);
  });
});
