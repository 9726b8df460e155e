export interface SampleConfig {
  readonly port: number;
  readonly host: string;
  readonly productCode: string;
  readonly dimensions: readonly string[];
  /** meterkit store: 'sqlite:<file>' (default 'sqlite:./meterkit.db') or 'memory'. */
  readonly store: string;
  /** METERKIT_APP_DB, default './app.db': the SQLite file the app keeps its tenants and API key hashes in. */
  readonly appDb: string;
  /** 'emulator' (default): a local Marketplace Metering API started by the app. 'aws': the real service. */
  readonly target: 'emulator' | 'aws';
  readonly emulatorPort: number;
  /** AWS region of the Metering API (target 'aws'); default: the SDK's resolution (AWS_REGION, profile). */
  readonly awsRegion: string | undefined;
  readonly mode: 'live' | 'dry-run';
  /**
   * METERKIT_EVENTS_SECRET: what the EventBridge connection sends in x-api-key (at least 16 characters). Unset: with
   * the emulator a random one is made up (and printed), with AWS the lifecycle route is off.
   */
  readonly eventsSecret: string | undefined;
  /**
   * METERKIT_EMULATOR_SPEED, default 1: the local emulator's time runs this many times as fast as real time and the
   * app's clock follows it (120: an emulated hour every 30 s), so usage is billed within a minute. Emulator only.
   */
  readonly emulatorSpeed: number;
  /**
   * METERKIT_CLOCK_OFFSET_MINUTES, default 0: the local emulator (and the app's clock with it) starts this many
   * minutes from real time, e.g. -1440 to try the end of BatchMeterUsage's window. Emulator only.
   */
  readonly clockOffsetMinutes: number;
}

/** The fastest emulated time the emulator runs (36 000: ten emulated hours a real second). */
const MAX_SPEED = 36_000;

function speed(env: NodeJS.ProcessEnv): number {
  const raw = env.METERKIT_EMULATOR_SPEED;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > MAX_SPEED) throw new Error(`METERKIT_EMULATOR_SPEED must be a number above 0 and at most ${MAX_SPEED}, got ${JSON.stringify(raw)}.`);
  return value;
}

function offsetMinutes(env: NodeJS.ProcessEnv): number {
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
export function acceleratedTimeOptions(emulatorSpeed: number): { flushIntervalMs?: number; leaseMs?: number } {
  if (emulatorSpeed <= 1) return {};
  return { flushIntervalMs: Math.max(1000, Math.round(60_000 / emulatorSpeed)), leaseMs: Math.min(3_600_000, Math.round(300_000 * emulatorSpeed)) };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`${name} must be a port number, got ${JSON.stringify(raw)}.`);
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}.`);
  return raw as T;
}

/** Reads the sample's configuration from environment variables (see the README); throws on a bad value. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const target = oneOf(env, 'METERKIT_TARGET', ['emulator', 'aws'], 'emulator');
  const productCode = env.MARKETPLACE_PRODUCT_CODE ?? (target === 'emulator' ? 'prod-sample123' : undefined);
  if (productCode === undefined || productCode === '') throw new Error('MARKETPLACE_PRODUCT_CODE is required with METERKIT_TARGET=aws.');
  const emulatorSpeed = speed(env);
  const clockOffsetMinutes = offsetMinutes(env);
  // Against AWS the app's clock is real time: a shifted or faster clock would date usage in hours it did not happen.
  if (target === 'aws' && (emulatorSpeed !== 1 || clockOffsetMinutes !== 0))
    throw new Error('METERKIT_EMULATOR_SPEED and METERKIT_CLOCK_OFFSET_MINUTES apply to the local emulator only: unset them, or use METERKIT_TARGET=emulator.');
  return {
    port: integer(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    productCode,
    dimensions: (env.MARKETPLACE_DIMENSIONS || 'api_calls,gb_processed').split(',').map((d) => d.trim()).filter((d) => d.length > 0),
    store: env.METERKIT_STORE || 'sqlite:./meterkit.db',
    appDb: env.METERKIT_APP_DB || './app.db',
    target,
    emulatorPort: integer(env, 'METERKIT_EMULATOR_PORT', 4599),
    awsRegion: env.AWS_REGION || undefined,
    mode: oneOf(env, 'METERKIT_MODE', ['live', 'dry-run'], 'live'),
    eventsSecret: env.METERKIT_EVENTS_SECRET || undefined,
    emulatorSpeed,
    clockOffsetMinutes,
  };
}
