import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { meteringTarget } from './config/metering-target';

async function bootstrap(): Promise<void> {
  const logger = new Logger('nestjs-sample');
  const target = await meteringTarget(process.env);
  const module = AppModule.register({ metering: target.metering });
  const app: INestApplication =
    process.env.NEST_PLATFORM === 'fastify' ? await NestFactory.create(module, new FastifyAdapter()) : await NestFactory.create(module, new ExpressAdapter());
  // SIGTERM/SIGINT close the app: the server stops, then metering persists everything it holds.
  // A local emulator lives in this process and ends with it.
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  logger.log(`listening on ${await app.getUrl()}; metering to ${target.description}`);
}

void bootstrap();
