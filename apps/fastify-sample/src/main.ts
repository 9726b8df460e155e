import { describeEmulatedTime } from '@meterkit/emulator';
import { createMetering } from '@meterkit/core';
import { buildApp, EVENTS_PATH } from './app';
import { commitPolicy, configFromEnv } from './config';
import { meteringTarget } from './metering-target';
import { Tenants } from './tenants';

async function main(): Promise<void> {
  const config = configFromEnv();
  const target = await meteringTarget(config, { eventsUrl: `http://${config.host}:${config.port}${EVENTS_PATH}` });
  const { emulator, eventsSecret } = target;
  const metering = createMetering(target.options);
  const app = await buildApp({
    metering,
    commitPolicy: commitPolicy(config),
    tenants: new Tenants({ file: config.appDb }),
    logger: { level: 'info' },
    ...(eventsSecret === undefined ? {} : { eventsSecret }),
  });
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`meterkit: product ${config.productCode} (${config.dimensions.join(', ')}, identity ${config.identity}), target ${config.target}, store ${config.store}, durability ${config.durability}, lock ${config.lockMinutes} min, billed responses ${config.commitOn}, mode ${config.mode}`);
  if (eventsSecret === undefined) app.log.info('lifecycle route off: set METERKIT_EVENTS_SECRET to receive EventBridge events');
  else app.log.info(`lifecycle events (EventBridge API destination): POST ${EVENTS_PATH}`);
  if (emulator !== undefined) {
    if (target.eventsSecretGenerated) app.log.info(`emulator events secret (x-api-key): ${eventsSecret}`);
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
      .then(() => target.close())
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
