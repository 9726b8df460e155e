import { consoleLogger, createMetering, type Logger, type Metering, type ProductConfig } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
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
  };
}

export interface MeteringSetup {
  readonly metering: Metering;
  /** The local emulator, when not metering to AWS. */
  readonly emulator?: Emulator;
}

/** Real AWS when a region is configured; otherwise a local emulator with the sample's product, on its clock. */
export async function createSampleMetering(env: SampleEnv, logger: Logger = consoleLogger): Promise<MeteringSetup> {
  const products: ProductConfig[] = [{ productCode: env.productCode, dimensions: [...DIMENSIONS] }];
  if (env.awsRegion !== undefined) {
    return { metering: createMetering({ products, store: env.store, aws: { region: env.awsRegion }, logger, autoStart: false }) };
  }
  const emulator = await startEmulator({ port: env.emulatorPort, products: [{ productCode: env.productCode, dimensions: [...DIMENSIONS] }] });
  const metering = createMetering({
    products,
    store: env.store,
    aws: { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } },
    clock: () => emulator.clock.now(),
    logger,
    autoStart: false,
  });
  return { metering, emulator };
}
