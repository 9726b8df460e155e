import { startEmulator, type Emulator } from '@meterkit/emulator';
import { createMetering, type AwsOptions } from '@meterkit/core';
import { buildApp } from './app';
import { configFromEnv } from './config';

async function main(): Promise<void> {
  const config = configFromEnv();
  let emulator: Emulator | undefined;
  let aws: AwsOptions;
  if (config.target === 'emulator') {
    emulator = await startEmulator({ port: config.emulatorPort, products: [{ productCode: config.productCode, dimensions: [...config.dimensions] }] });
    aws = { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } };
  } else {
    aws = config.awsRegion === undefined ? {} : { region: config.awsRegion };
  }

  const metering = createMetering({
    products: [{ productCode: config.productCode, dimensions: config.dimensions }],
    store: config.store,
    aws,
    mode: config.mode,
    ...(emulator === undefined ? {} : { clock: () => emulator.clock.now() }),
  });
  const app = await buildApp({ metering, logger: { level: 'info' } });
  await app.listen({ port: config.port, host: config.host });
  if (emulator !== undefined) {
    const { port } = app.server.address() as { port: number };
    app.log.info(
      `metering to the emulator at ${emulator.endpoint}; add a buyer with: npx meterkit-emulator subscribe ${config.productCode} --url ${emulator.endpoint} --registration-url http://${config.host}:${port}/marketplace/register`,
    );
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
