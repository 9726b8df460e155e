import type { MeteringOptions } from '@meterkit/core';
import { startEmulator } from '@meterkit/emulator';
import { randomBytes } from 'node:crypto';

export const SAMPLE_PRODUCT = 'prod-nestjs-sample';
export const DIMENSIONS = ['api_calls', 'gb_processed'];

export interface MeteringTarget {
  readonly metering: MeteringOptions;
  /**
   * The lifecycle route's secret: METERKIT_EVENTS_SECRET, or (emulator) a random one the emulator sends.
   * Undefined with AWS and no secret: no lifecycle route.
   */
  readonly eventsSecret?: string;
  /** Whether the secret was made up here (print it so you can send events yourself). */
  readonly eventsSecretGenerated?: boolean;
  /** What the log says about where usage goes. */
  readonly description: string;
  /** Stops what the target started (the emulator). */
  close(): Promise<void>;
}

/**
 * AWS when METERKIT_TARGET=aws (product METERKIT_PRODUCT_CODE, region AWS_REGION, the SDK's credential chain,
 * store METERKIT_STORE or sqlite:./meterkit.db); otherwise a local emulator started here, with a memory store.
 */
export async function meteringTarget(env: NodeJS.ProcessEnv, eventsUrl?: string): Promise<MeteringTarget> {
  const configuredSecret = env.METERKIT_EVENTS_SECRET || undefined;
  if (env.METERKIT_TARGET === 'aws') {
    const productCode = env.METERKIT_PRODUCT_CODE;
    if (productCode === undefined || productCode === '') throw new Error('METERKIT_TARGET=aws needs METERKIT_PRODUCT_CODE.');
    return {
      metering: {
        products: [{ productCode, dimensions: DIMENSIONS }],
        store: env.METERKIT_STORE ?? 'sqlite:./meterkit.db',
        aws: { region: env.AWS_REGION ?? 'us-east-1' },
      },
      ...(configuredSecret === undefined ? {} : { eventsSecret: configuredSecret }),
      description: `AWS Marketplace (${env.AWS_REGION ?? 'us-east-1'}), product ${productCode}`,
      close: async () => undefined,
    };
  }
  const eventsSecret = configuredSecret ?? randomBytes(24).toString('base64url');
  const emulator = await startEmulator({
    host: '127.0.0.1',
    port: Number(env.EMULATOR_PORT ?? 0),
    products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
    // Delivered like an EventBridge API destination; the app listens there by the time a buyer changes.
    ...(eventsUrl === undefined ? {} : { events: { url: eventsUrl, headerValue: eventsSecret } }),
  });
  return {
    metering: {
      products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
      store: 'memory',
      aws: { region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } },
      lockMinutes: Number(env.METERKIT_LOCK_MINUTES ?? 10),
    },
    eventsSecret,
    eventsSecretGenerated: configuredSecret === undefined,
    description: `the local emulator at ${emulator.endpoint} (product ${SAMPLE_PRODUCT})`,
    close: () => emulator.close(),
  };
}
