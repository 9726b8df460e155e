import { buildApp, EVENTS_PATH, REGISTRATION_PATH } from './app';
import { describeEmulatedTime } from '@meterkit/emulator';
import { commitPolicy, createSampleMetering, readEnv } from './config';
import { serve } from './serve';
import { TenantRegistry } from './tenants';

async function main(): Promise<void> {
  const env = readEnv();
  const { metering, emulator, eventsSecret } = await createSampleMetering(env, `http://${env.host}:${env.port}${EVENTS_PATH}`);
  const { app, mk } = buildApp({ metering, commitPolicy: commitPolicy(env), tenants: new TenantRegistry({ file: env.appDb }), ...(eventsSecret === undefined ? {} : { eventsSecret }) });
  const running = await serve(app, mk, env.port, env.host);

  console.log(`express-sample listening on ${running.url}`);
  console.log(`registration URL (fulfillment URL): ${running.url}${REGISTRATION_PATH}`);
  console.log(
    `meterkit: product ${env.productCode} (${env.dimensions.join(', ')})${env.contractProductCode === undefined ? '' : ` and contract ${env.contractProductCode}`}, identity ${env.identity}, store ${env.store}, durability ${env.durability}, lock ${env.lockMinutes} min, billed responses ${env.commitOn}, mode ${env.mode}`,
  );
  if (eventsSecret === undefined) console.log('lifecycle route off: set METERKIT_EVENTS_SECRET to receive EventBridge events');
  else console.log(`lifecycle events (EventBridge API destination): ${running.url}${EVENTS_PATH}`);
  if (emulator !== undefined && env.eventsSecret === undefined) console.log(`emulator events secret (x-api-key): ${eventsSecret}`);
  if (emulator !== undefined) {
    console.log(`metering to the local emulator at ${emulator.endpoint} (set METERKIT_TARGET=aws to meter to AWS)`);
    console.log(`subscribe a buyer: npx meterkit-emulator subscribe ${env.productCode} --url ${emulator.endpoint} --registration-url ${running.url}${REGISTRATION_PATH}`);
    if (env.contractProductCode !== undefined) {
      console.log(
        `or a contract buyer: npx meterkit-emulator subscribe ${env.contractProductCode} --contract seats=5,api_calls=100 --url ${emulator.endpoint} --registration-url ${running.url}${REGISTRATION_PATH}`,
      );
    }
    console.log(describeEmulatedTime(emulator.clock));
    console.log(`watch usage billed: npx meterkit records --store ${env.store}  and  npx meterkit-emulator totals --url ${emulator.endpoint}`);
  } else {
    console.log(`metering to AWS Marketplace at ${env.awsEndpoint ?? env.awsRegion ?? "the SDK's region"}`);
  }

  const shutdown = (signal: string) => {
    console.log(`${signal}: closing the server, then persisting usage`);
    running
      .stop()
      .then(() => emulator?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('could not persist all usage before exit:', error instanceof Error ? error.message : error);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // A bad setting (or a port in use) stops the app before it listens, with the reason on one line.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
