import { consoleLogger, createMetering, type Logger, type Metering, type MeteringOptions } from '@meterkit/core';
import { MAX_SPEED, startEmulator, type Emulator } from '@meterkit/emulator';
import { randomBytes } from 'node:crypto';
import { emulatorProducts, sampleProducts } from './products';

export interface SampleEnv {
  /** PORT, default 3000. */
  readonly port: number;
  /** HOST, default 127.0.0.1. */
  readonly host: string;
  /** METERKIT_PRODUCT_CODE, default prod-sample-api. Its dimensions must be api_calls and rows_exported. */
  readonly productCode: string;
  /**
   * METERKIT_CONTRACT_PRODUCT_CODE: the contract-with-consumption listing (metered dimensions api_calls and
   * rows_exported, contract dimensions seats and api_calls). Default prod-sample-team with the emulator; with AWS
   * unset: no contract product.
   */
  readonly contractProductCode?: string;
  /** METERKIT_STORE, default sqlite:./meterkit.db. */
  readonly store: string;
  /** METERKIT_APP_DB, default ./app.db: the SQLite file the app keeps its tenants and API key digests in. */
  readonly appDb: string;
  /** METERKIT_AWS_REGION: meter to real AWS in this region (SDK credential chain). Unset: a local emulator. */
  readonly awsRegion?: string;
  /** METERKIT_EMULATOR_PORT, default 4599 (only without METERKIT_AWS_REGION). */
  readonly emulatorPort: number;
  /**
   * METERKIT_EVENTS_SECRET: the secret your EventBridge connection sends in x-api-key (at least 16 characters).
   * Unset: with the emulator a random one is made up (and printed); with AWS the lifecycle route is off.
   */
  readonly eventsSecret?: string;
  /**
   * METERKIT_EMULATOR_SPEED, default 1: the local emulator's time runs this many times as fast as real time and the
   * app's clock follows it (120: an emulated hour every 30 s), so usage is billed within a minute. Emulator only.
   */
  readonly emulatorSpeed: number;
  /**
   * METERKIT_CLOCK_OFFSET_MINUTES, default 0: the local emulator (and the app's clock with it) starts this many
   * minutes from real time, e.g. -65 to try the end of BatchMeterUsage's window or an hour's lock. Emulator only.
   */
  readonly clockOffsetMinutes: number;
}

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new Error(`${name} must be a port number, got ${JSON.stringify(value)}.`);
  return parsed;
}

function speed(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > MAX_SPEED) throw new Error(`METERKIT_EMULATOR_SPEED must be a number above 0 and at most ${MAX_SPEED}, got ${JSON.stringify(value)}.`);
  return parsed;
}

function minutes(name: string, value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || Math.abs(parsed) > 525_600) throw new Error(`${name} must be a whole number of minutes (at most a year either way), got ${JSON.stringify(value)}.`);
  return parsed;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): SampleEnv {
  const awsRegion = env.METERKIT_AWS_REGION?.trim();
  const emulatorSpeed = speed(env.METERKIT_EMULATOR_SPEED);
  const clockOffsetMinutes = minutes('METERKIT_CLOCK_OFFSET_MINUTES', env.METERKIT_CLOCK_OFFSET_MINUTES);
  // Against AWS the app's clock is real time: a shifted or faster clock would date usage in hours it did not happen.
  if (awsRegion && (emulatorSpeed !== 1 || clockOffsetMinutes !== 0))
    throw new Error('METERKIT_EMULATOR_SPEED and METERKIT_CLOCK_OFFSET_MINUTES apply to the local emulator only: unset them, or unset METERKIT_AWS_REGION.');
  return {
    port: port('PORT', env.PORT, 3000),
    host: env.HOST || '127.0.0.1',
    productCode: env.METERKIT_PRODUCT_CODE || 'prod-sample-api',
    ...(env.METERKIT_CONTRACT_PRODUCT_CODE ? { contractProductCode: env.METERKIT_CONTRACT_PRODUCT_CODE } : awsRegion ? {} : { contractProductCode: 'prod-sample-team' }),
    store: env.METERKIT_STORE || 'sqlite:./meterkit.db',
    appDb: env.METERKIT_APP_DB || './app.db',
    ...(awsRegion ? { awsRegion } : {}),
    emulatorPort: port('METERKIT_EMULATOR_PORT', env.METERKIT_EMULATOR_PORT, 4599),
    ...(env.METERKIT_EVENTS_SECRET ? { eventsSecret: env.METERKIT_EVENTS_SECRET } : {}),
    emulatorSpeed,
    clockOffsetMinutes,
  };
}

/**
 * The engine's timers run in real time, its hours, lock and leases in the clock's time. With accelerated time the
 * flush runs every emulated minute (at most once a real second) instead of every 60 real seconds (two emulated
 * hours at 120x), and a claimed record's lease keeps lasting 5 emulated minutes of sending or more (up to an hour).
 */
export function acceleratedTimeOptions(emulatorSpeed: number): Pick<MeteringOptions, 'flushIntervalMs' | 'leaseMs'> {
  if (emulatorSpeed <= 1) return {};
  return { flushIntervalMs: Math.max(1000, Math.round(60_000 / emulatorSpeed)), leaseMs: Math.min(3_600_000, Math.round(300_000 * emulatorSpeed)) };
}

export interface SampleMeteringOptions {
  /** The real time the emulator's clock runs with. Default Date.now; tests drive it themselves. */
  readonly timeSource?: () => number;
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
export async function createSampleMetering(env: SampleEnv, eventsUrl: string, logger: Logger = consoleLogger, options: SampleMeteringOptions = {}): Promise<MeteringSetup> {
  const products = sampleProducts(env.productCode, env.contractProductCode);
  if (env.awsRegion !== undefined) {
    const metering = createMetering({ products, store: env.store, aws: { region: env.awsRegion }, logger, autoStart: false });
    return { metering, ...(env.eventsSecret === undefined ? {} : { eventsSecret: env.eventsSecret }) };
  }
  const eventsSecret = env.eventsSecret ?? randomBytes(24).toString('base64url');
  const timeSource = options.timeSource ?? Date.now;
  const emulator = await startEmulator({
    port: env.emulatorPort,
    speed: env.emulatorSpeed,
    timeSource,
    now: timeSource() + env.clockOffsetMinutes * 60_000,
    products: emulatorProducts(env.productCode, env.contractProductCode),
    events: { url: eventsUrl, headerValue: eventsSecret },
  });
  const metering = createMetering({
    products,
    store: env.store,
    aws: { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } },
    clock: () => emulator.clock.now(),
    ...acceleratedTimeOptions(env.emulatorSpeed),
    logger,
    autoStart: false,
  });
  return { metering, emulator, eventsSecret };
}
