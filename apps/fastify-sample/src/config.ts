export interface SampleConfig {
  readonly port: number;
  readonly host: string;
  readonly productCode: string;
  readonly dimensions: readonly string[];
  /** meterkit store: 'sqlite:<file>' (default 'sqlite:./meterkit.db') or 'memory'. */
  readonly store: string;
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
  return {
    port: integer(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    productCode,
    dimensions: (env.MARKETPLACE_DIMENSIONS || 'api_calls,gb_processed').split(',').map((d) => d.trim()).filter((d) => d.length > 0),
    store: env.METERKIT_STORE || 'sqlite:./meterkit.db',
    target,
    emulatorPort: integer(env, 'METERKIT_EMULATOR_PORT', 4599),
    awsRegion: env.AWS_REGION || undefined,
    mode: oneOf(env, 'METERKIT_MODE', ['live', 'dry-run'], 'live'),
    eventsSecret: env.METERKIT_EVENTS_SECRET || undefined,
  };
}
