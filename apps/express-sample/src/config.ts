import { consoleLogger, createMetering, type Logger, type Metering, type ProductConfig } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { randomBytes } from 'node:crypto';
import { DIMENSIONS } from './api';

export interface SampleEnv {
  /** PORT, default 3000. */
  readonly port: number;
  /** HOST, default 127.0.0.1. */
  readonly host: string;
  /** METERKIT_PRODUCT_CODE, default prod-sample-api. Its dimensions must be api_calls and rows_exported. */
  readonly productCode: string;
  /** METERKIT_STORE, default sqlite:./meterkit.db. */
  readonly store: string;
  /** METERKIT_AWS_REGION: meter to real AWS in this region (SDK credential chain). Unset: a local emulator. */
  readonly awsRegion?: string;
  /** METERKIT_EMULATOR_PORT, default 4599 (only without METERKIT_AWS_REGION). */
  readonly emulatorPort: number;
  /**
   * METERKIT_EVENTS_SECRET: the secret your EventBridge connection sends in x-api-key (at least 16 characters).
   * Unset: with the emulator a random one is made up (and printed); with AWS the lifecycle route is off.
   */
  readonly eventsSecret?: string;
}

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new Error(`${name} must be a port number, got ${JSON.stringify(value)}.`);
  return parsed;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): SampleEnv {
  const awsRegion = env.METERKIT_AWS_REGION?.trim();
  return {
    port: port('PORT', env.PORT, 3000),
    host: env.HOST || '127.0.0.1',
    productCode: env.METERKIT_PRODUCT_CODE || 'prod-sample-api',
    store: env.METERKIT_STORE || 'sqlite:./meterkit.db',
    ...(awsRegion ? { awsRegion } : {}),
    emulatorPort: port('METERKIT_EMULATOR_PORT', env.METERKIT_EMULATOR_PORT, 4599),
    ...(env.METERKIT_EVENTS_SECRET ? { eventsSecret: env.METERKIT_EVENTS_SECRET } : {}),
  };
}

export interface MeteringSetup {
  readonly metering: Metering;
  /** The local emulator, when not metering to AWS. */
  readonly emulator?: Emulator;
  /** The lifecycle route's secret: METERKIT_EVENTS_SECRET, or a random one the emulator was configured with. */
  readonly eventsSecret?: string;
}

/**
 * Real AWS when a region is configured; otherwise a local emulator with the sample's product, on its clock, that
 * delivers lifecycle events to `eventsUrl` with the events secret, as an EventBridge API destination does.
 */
export async function createSampleMetering(env: SampleEnv, eventsUrl: string, logger: Logger = consoleLogger): Promise<MeteringSetup> {
  const products: ProductConfig[] = [{ productCode: env.productCode, dimensions: [...DIMENSIONS] }];
  if (env.awsRegion !== undefined) {
    const metering = createMetering({ products, store: env.store, aws: { region: env.awsRegion }, logger, autoStart: false });
    return { metering, ...(env.eventsSecret === undefined ? {} : { eventsSecret: env.eventsSecret }) };
  }
  const eventsSecret = env.eventsSecret ?? randomBytes(24).toString('base64url');
  const emulator = await startEmulator({
    port: env.emulatorPort,
    products: [{ productCode: env.productCode, dimensions: [...DIMENSIONS] }],
    events: { url: eventsUrl, headerValue: eventsSecret },
  });
  const metering = createMetering({
    products,
    store: env.store,
    aws: { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } },
    clock: () => emulator.clock.now(),
    logger,
    autoStart: false,
  });
  return { metering, emulator, eventsSecret };
}
