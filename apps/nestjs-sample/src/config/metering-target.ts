import type { MeteringOptions } from '@meterkit/core';
import { describeEmulatedTime, MAX_SPEED, startEmulator } from '@meterkit/emulator';
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
  /** With the emulator: its time, and how it runs compared with real time, for the log. */
  readonly emulatedTime?: () => string;
  /** Stops what the target started (the emulator). */
  close(): Promise<void>;
}

export interface MeteringTargetOptions {
  /** The real time the emulator's clock runs with. Default Date.now; tests drive it themselves. */
  readonly timeSource?: () => number;
}

function emulatorSpeed(env: NodeJS.ProcessEnv): number {
  const raw = env.METERKIT_EMULATOR_SPEED;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > MAX_SPEED) throw new Error(`METERKIT_EMULATOR_SPEED must be a number above 0 and at most ${MAX_SPEED}, got ${JSON.stringify(raw)}.`);
  return value;
}

function clockOffsetMinutes(env: NodeJS.ProcessEnv): number {
  const raw = env.METERKIT_CLOCK_OFFSET_MINUTES;
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || Math.abs(value) > 525_600) throw new Error(`METERKIT_CLOCK_OFFSET_MINUTES must be a whole number of minutes (at most a year either way), got ${JSON.stringify(raw)}.`);
  return value;
}

/**
 * The engine's timers run in real time, its hours, lock and leases in the clock's time. With accelerated time the
 * flush runs every emulated minute (at most once a real second) instead of every 60 real seconds (two emulated
 * hours at 120x), and a claimed record's lease keeps lasting 5 emulated minutes of sending or more (up to an hour).
 */
export function acceleratedTimeOptions(speed: number): Pick<MeteringOptions, 'flushIntervalMs' | 'leaseMs'> {
  if (speed <= 1) return {};
  return { flushIntervalMs: Math.max(1000, Math.round(60_000 / speed)), leaseMs: Math.min(3_600_000, Math.round(300_000 * speed)) };
}

/**
 * AWS when METERKIT_TARGET=aws (product METERKIT_PRODUCT_CODE, region AWS_REGION, the SDK's credential chain,
 * store METERKIT_STORE or sqlite:./meterkit.db); otherwise a local emulator started here, with a memory store.
 */
export async function meteringTarget(env: NodeJS.ProcessEnv, eventsUrl?: string, options: MeteringTargetOptions = {}): Promise<MeteringTarget> {
  const configuredSecret = env.METERKIT_EVENTS_SECRET || undefined;
  const speed = emulatorSpeed(env);
  const offsetMinutes = clockOffsetMinutes(env);
  if (env.METERKIT_TARGET === 'aws') {
    // Against AWS the app's clock is real time: a shifted or faster clock would date usage in hours it did not happen.
    if (speed !== 1 || offsetMinutes !== 0) throw new Error('METERKIT_EMULATOR_SPEED and METERKIT_CLOCK_OFFSET_MINUTES apply to the local emulator only: unset them, or unset METERKIT_TARGET=aws.');
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
  const timeSource = options.timeSource ?? Date.now;
  const emulator = await startEmulator({
    host: '127.0.0.1',
    speed,
    timeSource,
    now: timeSource() + offsetMinutes * 60_000,
    port: Number(env.EMULATOR_PORT ?? 0),
    products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
    // Delivered like an EventBridge API destination; the app listens there by the time a buyer changes.
    ...(eventsUrl === undefined ? {} : { events: { url: eventsUrl, headerValue: eventsSecret } }),
  });
  return {
    metering: {
      products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
      store: env.METERKIT_STORE || 'memory',
      aws: { region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } },
      lockMinutes: Number(env.METERKIT_LOCK_MINUTES ?? 10),
      // The app's hours, lock and windows in the emulator's time, which METERKIT_EMULATOR_SPEED and
      // METERKIT_CLOCK_OFFSET_MINUTES move away from real time.
      clock: () => emulator.clock.now(),
      ...acceleratedTimeOptions(speed),
    },
    emulatedTime: () => describeEmulatedTime(emulator.clock, timeSource()),
    eventsSecret,
    eventsSecretGenerated: configuredSecret === undefined,
    description: `the local emulator at ${emulator.endpoint} (product ${SAMPLE_PRODUCT})`,
    close: () => emulator.close(),
  };
}
