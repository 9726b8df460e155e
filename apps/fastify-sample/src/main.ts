import { describeEmulatedTime, startEmulator, type Emulator } from '@meterkit/emulator';
import { createMetering, type AwsOptions } from '@meterkit/core';
import { randomBytes } from 'node:crypto';
import { buildApp, EVENTS_PATH } from './app';
import { acceleratedTimeOptions, configFromEnv } from './config';
import { Tenants } from './tenants';

async function main(): Promise<void> {
  const config = configFromEnv();
  let emulator: Emulator | undefined;
  let aws: AwsOptions;
  let eventsSecret = config.eventsSecret;
  if (config.target === 'emulator') {
    eventsSecret ??= randomBytes(24).toString('base64url');
    emulator = await startEmulator({
      port: config.emulatorPort,
      speed: config.emulatorSpeed,
      now: Date.now() + config.clockOffsetMinutes * 60_000,
      products: [{ productCode: config.productCode, dimensions: [...config.dimensions] }],
      // Delivered like an EventBridge API destination; the app listens there by the time a buyer changes.
      events: { url: `http://${config.host}:${config.port}${EVENTS_PATH}`, headerValue: eventsSecret },
    });
    aws = { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  } else {
    aws = config.awsRegion === undefined ? {} : { region: config.awsRegion };
  }

  const metering = createMetering({
    products: [{ productCode: config.productCode, dimensions: config.dimensions }],
    store: config.store,
    aws,
    mode: config.mode,
    ...(emulator === undefined ? {} : { clock: () => emulator.clock.now(), ...acceleratedTimeOptions(config.emulatorSpeed) }),
  });
  const app = await buildApp({ metering, tenants: new Tenants({ file: config.appDb }), logger: { level: 'info' }, ...(eventsSecret === undefined ? {} : { eventsSecret }) });
  await app.listen({ port: config.port, host: config.host });
  if (eventsSecret === undefined) app.log.info('lifecycle route off: set METERKIT_EVENTS_SECRET to receive EventBridge events');
  else app.log.info(`lifecycle events (EventBridge API destination): POST ${EVENTS_PATH}`);
  if (emulator !== undefined) {
    if (config.eventsSecret === undefined) app.log.info(`emulator events secret (x-api-key): ${eventsSecret}`);
    const { port } = app.server.address() as { port: number };
    app.log.info(
      `metering to the emulator at ${emulator.endpoint}; add a buyer with: npx meterkit-emulator subscribe ${config.productCode} --url ${emulator.endpoint} --registration-url http://${config.host}:${port}/marketplace/register`,
    );
    app.log.info(describeEmulatedTime(emulator.clock));
    app.log.info(`watch usage billed: npx meterkit records --store ${config.store}  and  npx meterkit-emulator totals --url ${emulator.endpoint}`);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing requests and persisting usage');
    app
      .close()
      .then(() => emulator?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed: usage may still be in memory');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
