import type { AwsOptions, MeteringOptions } from '@meterkit/core';
import { describeEmulatedTime, startEmulator, type Emulator } from '@meterkit/emulator';
import { randomBytes } from 'node:crypto';
import type { SampleConfig } from './sample-config';

export interface MeteringTarget {
  /** createMetering() options from the configuration: products, store, durability, lock, flush, mode, AWS client and clock. */
  readonly metering: MeteringOptions;
  /** The local emulator (METERKIT_TARGET=emulator). */
  readonly emulator?: Emulator;
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
  /** Where the emulator delivers lifecycle events, as an EventBridge API destination would. Default: none. */
  readonly eventsUrl?: string;
  /** The real time the emulator's clock runs with. Default Date.now; tests drive it themselves. */
  readonly timeSource?: () => number;
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

/** The engine settings an operator chooses, whatever the target. */
function engineOptions(config: SampleConfig, aws: AwsOptions): MeteringOptions {
  return {
    products: [{ productCode: config.productCode, dimensions: config.dimensions, identity: config.identity }],
    store: config.store,
    aws,
    durability: config.durability,
    lockMinutes: config.lockMinutes,
    mode: config.mode,
    ...(config.flushIntervalMs === undefined ? {} : { flushIntervalMs: config.flushIntervalMs }),
  };
}

/** AWS (METERKIT_TARGET=aws, the SDK's credential chain), or a local emulator started here selling the configured product. */
export async function meteringTarget(config: SampleConfig, options: MeteringTargetOptions = {}): Promise<MeteringTarget> {
  if (config.target === 'aws') {
    const aws: AwsOptions = { ...(config.awsRegion === undefined ? {} : { region: config.awsRegion }), ...(config.awsEndpoint === undefined ? {} : { endpoint: config.awsEndpoint }) };
    return {
      metering: engineOptions(config, aws),
      ...(config.eventsSecret === undefined ? {} : { eventsSecret: config.eventsSecret }),
      description: `AWS Marketplace (${config.awsEndpoint ?? config.awsRegion ?? "the SDK's region"}), product ${config.productCode}`,
      close: async () => undefined,
    };
  }
  const eventsSecret = config.eventsSecret ?? randomBytes(24).toString('base64url');
  const timeSource = options.timeSource ?? Date.now;
  const emulator = await startEmulator({
    host: '127.0.0.1',
    speed: config.emulatorSpeed,
    timeSource,
    now: timeSource() + config.clockOffsetMinutes * 60_000,
    port: config.emulatorPort,
    products: [{ productCode: config.productCode, dimensions: [...config.dimensions], identity: config.identity }],
    // Delivered like an EventBridge API destination; the app listens there by the time a buyer changes.
    ...(options.eventsUrl === undefined ? {} : { events: { url: options.eventsUrl, headerValue: eventsSecret } }),
  });
  const engine = engineOptions(config, { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } });
  return {
    metering: {
      ...engine,
      // The app's hours, lock and windows in the emulator's time, which METERKIT_EMULATOR_SPEED and
      // METERKIT_CLOCK_OFFSET_MINUTES move away from real time. An explicit METERKIT_FLUSH_INTERVAL_MS wins.
      clock: () => emulator.clock.now(),
      ...acceleratedTimeOptions(config.emulatorSpeed),
      ...(config.flushIntervalMs === undefined ? {} : { flushIntervalMs: config.flushIntervalMs }),
    },
    emulator,
    emulatedTime: () => describeEmulatedTime(emulator.clock, timeSource()),
    eventsSecret,
    eventsSecretGenerated: config.eventsSecret === undefined,
    description: `the local emulator at ${emulator.endpoint} (product ${config.productCode})`,
    close: () => emulator.close(),
  };
}
