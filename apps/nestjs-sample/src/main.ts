import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule, EVENTS_PATH } from './app.module';
import { meteringTarget } from './config/metering-target';

async function bootstrap(): Promise<void> {
  const logger = new Logger('nestjs-sample');
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const target = await meteringTarget(process.env, `http://${host}:${port}${EVENTS_PATH}`);
  const module = AppModule.register({ metering: target.metering, appDb: process.env.METERKIT_APP_DB || './app.db', ...(target.eventsSecret === undefined ? {} : { eventsSecret: target.eventsSecret }) });
  // rawBody: the lifecycle route checks the exact bytes of each delivery, on either platform.
  const app: INestApplication =
    process.env.NEST_PLATFORM === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { rawBody: true })
      : await NestFactory.create(module, new ExpressAdapter(), { rawBody: true });
  // SIGTERM/SIGINT close the app: the server stops, then metering persists everything it holds.
  // A local emulator lives in this process and ends with it.
  app.enableShutdownHooks();
  await app.listen(port, host);
  logger.log(`listening on ${await app.getUrl()}; metering to ${target.description}`);
  if (target.eventsSecret === undefined) logger.log('lifecycle route off: set METERKIT_EVENTS_SECRET to receive EventBridge events');
  else logger.log(`lifecycle events (EventBridge API destination): POST ${EVENTS_PATH}`);
  if (target.eventsSecretGenerated === true) logger.log(`emulator events secret (x-api-key): ${target.eventsSecret}`);
  if (target.emulatedTime !== undefined) logger.log(target.emulatedTime());
}

void bootstrap();
