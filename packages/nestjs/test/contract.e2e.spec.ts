import 'reflect-metadata';
import { Catch, Controller, Get, HttpCode, Param, ParseIntPipe, Res, type ArgumentsHost, type INestApplication, type LoggerService } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { RequestMeter } from '@meterkit/core';
import type { RequestListener } from 'node:http';
import {
  describeAdapterContract,
  describeMeter,
  DIMENSION,
  NO_SUCH_DIMENSION,
  TENANT_HEADER,
  type AdapterDriver,
  type EntitledRoute,
} from '../../../tools/testing/adapter-contract/contract';
import { Meter, Metered, MeteringModule, RequireEntitlement } from '../src';

/** The contract's routes; `/counted` declares `countedDimension`. */
function contractController(countedDimension: string) {
  @Controller()
  class ContractController {
    @Get('work')
    work(@Meter() meter: RequestMeter | null): { meter: string } {
      meter?.record(DIMENSION, 1);
      return { meter: describeMeter(meter) };
    }

    @Get('answer/:status')
    answer(@Param('status', ParseIntPipe) status: number, @Meter() meter: RequestMeter | null, @Res() response: unknown): void {
      meter?.record(DIMENSION, 1);
      const http = (ContractController.adapter as HttpAdapterHost).httpAdapter;
      http.reply(response, {}, status);
    }

    @Get('counted')
    @Metered(countedDimension)
    @HttpCode(200)
    counted(): Record<string, never> {
      return {};
    }

    @Get('free')
    free(@Meter() meter: RequestMeter | null): { meter: string } {
      return { meter: describeMeter(meter) };
    }

    @Get('typo')
    typo(@Meter() meter: RequestMeter | null): Record<string, never> {
      meter?.record(NO_SUCH_DIMENSION, 1);
      return {};
    }

    static adapter: HttpAdapterHost | undefined;
  }
  return ContractController;
}

/** One handler per entitled route, each `@Get(path)` and `@RequireEntitlement(dimension, { atLeast })`. */
function entitledController(routes: readonly EntitledRoute[]) {
  class EntitledController {}
  routes.forEach(({ path, dimension, atLeast }, index) => {
    const name = `entitled${index}`;
    const prototype = EntitledController.prototype as unknown as Record<string, unknown>;
    prototype[name] = (meter: RequestMeter | null) => ({ meter: describeMeter(meter) });
    Meter()(prototype, name, 0);
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)!;
    RequireEntitlement(dimension, atLeast === undefined ? undefined : { atLeast })(prototype, name, descriptor);
    Get(path)(prototype, name, descriptor);
  });
  Controller()(EntitledController);
  return EntitledController;
}

/** The app's own global filter: it sees what reaches Nest's exception handling, then answers as Nest does. */
@Catch()
class RecordingFilter extends BaseExceptionFilter {
  constructor(private readonly errors: unknown[]) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    this.errors.push(exception);
    super.catch(exception, host);
  }
}

/** The app's logger: errors are kept for the contract to read, the rest is dropped. */
class RecordingLogger implements LoggerService {
  constructor(private readonly logged: string[]) {}

  error(message: unknown, ...rest: unknown[]): void {
    this.logged.push([message, ...rest].map(String).join(' '));
  }

  log(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
}

function nestDriver(platform: 'express' | 'fastify'): AdapterDriver {
  return {
    name: `nest on ${platform}`,
    async start(server, { metering, registration, lifecycle, statusPage, onSubscriptionChange, countedDimension = DIMENSION, entitled = [] }) {
      const errors: unknown[] = [];
      const logged: string[] = [];
      const identified: string[] = [];
      const logger = new RecordingLogger(logged);
      const ContractController = contractController(countedDimension);
      const moduleRef = await Test.createTestingModule({
        imports: [
          MeteringModule.forRoot({
            metering,
            identify: (request: { url: string; headers: Record<string, string | undefined> }) => {
              identified.push(request.url);
              return request.headers[TENANT_HEADER];
            },
            ...(registration === undefined ? {} : { registration }),
            ...(lifecycle === undefined ? {} : { lifecycle }),
            ...(statusPage === undefined ? {} : { statusPage }),
            ...(onSubscriptionChange === undefined ? {} : { onSubscriptionChange }),
          }),
        ],
        controllers: [ContractController, ...(entitled.length === 0 ? [] : [entitledController(entitled)])],
      }).compile();
      let app: INestApplication;
      if (platform === 'express') {
        const adapter = new ExpressAdapter();
        server.on('request', adapter.getInstance());
        app = moduleRef.createNestApplication(adapter, { logger, rawBody: true });
      } else {
        const adapter = new FastifyAdapter({ serverFactory: (handler: RequestListener) => server.on('request', handler) });
        app = moduleRef.createNestApplication(adapter, { logger, rawBody: true });
      }
      const host = app.get(HttpAdapterHost);
      ContractController.adapter = host;
      const filter = new RecordingFilter(errors);
      (filter as unknown as { applicationRef: unknown }).applicationRef = host.httpAdapter;
      app.useGlobalFilters(filter);
      try {
        await app.init();
        if (platform === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<void> }).ready();
      } catch (error) {
        await app.close();
        throw error;
      }
      return { errors, logged, identified, close: () => app.close() };
    },
  };
}

describeAdapterContract(nestDriver('express'));
describeAdapterContract(nestDriver('fastify'));
