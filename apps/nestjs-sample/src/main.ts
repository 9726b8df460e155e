import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule, EVENTS_PATH } from './app.module';
import { meteringTarget } from './config/metering-target';
import { commitPolicy, configFromEnv } from './config/sample-config';

async function bootstrap(): Promise<void> {
  const logger = new Logger('nestjs-sample');
  const config = configFromEnv();
  const { port, host } = config;
  const target = await meteringTarget(config, { eventsUrl: `http://${host}:${port}${EVENTS_PATH}` });
  const module = AppModule.register({
    metering: target.metering,
    commitPolicy: commitPolicy(config),
    appDb: config.appDb,
    ...(target.eventsSecret === undefined ? {} : { eventsSecret: target.eventsSecret }),
  });
  // rawBody: the lifecycle route checks the exact bytes of each delivery, on either platform.
  const app: INestApplication =
    config.platform === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { rawBody: true })
      : await NestFactory.create(module, new ExpressAdapter(), { rawBody: true });
  // SIGTERM/SIGINT close the app: the server stops, then metering persists everything it holds.
  // A local emulator lives in this process and ends with it.
  app.enableShutdownHooks();
  await app.listen(port, host);
  logger.log(`listening on ${await app.getUrl()}; metering to ${target.description}`);
  logger.log(
    `meterkit: dimensions ${config.dimensions.join(', ')}, identity ${config.identity}, store ${config.store}, durability ${config.durability}, lock ${config.lockMinutes} min, billed responses ${config.commitOn}, mode ${config.mode}`,
  );
  if (target.eventsSecret === undefined) logger.log('lifecycle route off: set METERKIT_EVENTS_SECRET to receive EventBridge events');
  else logger.log(`lifecycle events (EventBridge API destination): POST ${EVENTS_PATH}`);
  if (target.eventsSecretGenerated === true) logger.log(`emulator events secret (x-api-key): ${target.eventsSecret}`);
  if (target.emulatedTime !== undefined) logger.log(target.emulatedTime());
}

bootstrap().catch((error: unknown) => {
  // A bad setting (or an emulator port in use) stops the app before it listens, with the reason on one line.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
