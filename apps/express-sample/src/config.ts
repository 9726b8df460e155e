import { consoleLogger, createMetering, ErrorCodes, MeterkitError, type CommitPolicy, type Logger, type Metering, type MeteringOptions } from '@meterkit/core';
import { MAX_SPEED, startEmulator, type Emulator } from '@meterkit/emulator';
import { randomBytes } from 'node:crypto';
import { DIMENSIONS, emulatorProducts, sampleProducts } from './products';

/**
 * The sample's settings, read from environment variables once at start (README, "Environment"). Every value is
 * checked here: a bad one stops the app with a MeterkitError (ERR_METERKIT_OPTIONS) naming the variable and what it
 * accepts. An unset or empty variable takes its default, which is how the app ran before the variable existed.
 */
export interface SampleEnv {
  /** PORT, default 3000. */
  readonly port: number;
  /** HOST, default 127.0.0.1 (0.0.0.0 in a container). */
  readonly host: string;
  /** METERKIT_PRODUCT_CODE: the subscription listing. Default prod-sample-api with the emulator, required with AWS. */
  readonly productCode: string;
  /**
   * METERKIT_DIMENSIONS, default api_calls,rows_exported: the subscription's dimension API names. Must include the
   * ones this app records (DIMENSIONS); other dimensions of your listing may be added.
   */
  readonly dimensions: readonly string[];
  /**
   * METERKIT_CONTRACT_PRODUCT_CODE: the contract-with-consumption listing (metered dimensions api_calls and
   * rows_exported, contract dimensions seats and api_calls). Default prod-sample-team with the emulator; with AWS
   * unset: no contract product.
   */
  readonly contractProductCode?: string;
  /** METERKIT_IDENTITY, default license: how AWS names the buyer (license: LicenseArn; legacy: CustomerIdentifier), both listings. */
  readonly identity: 'license' | 'legacy';
  /** METERKIT_STORE, default sqlite:./meterkit.db: where usage waits for AWS ('sqlite:<file>', 'sqlite' or 'memory'). */
  readonly store: string;
  /** METERKIT_APP_DB, default ./app.db: the SQLite file the app keeps its tenants and API key hashes in. */
  readonly appDb: string;
  /** METERKIT_DURABILITY, default interval: 'interval' writes usage to the store every second, 'sync' before each commit resolves. */
  readonly durability: 'interval' | 'sync';
  /** METERKIT_LOCK_MINUTES, default 10: how long a closed hour waits for late usage before it is sent (0 to 1200). */
  readonly lockMinutes: number;
  /** METERKIT_COMMIT_ON, default served: which responses are billed (see COMMIT_ON). */
  readonly commitOn: CommitOn;
  /** METERKIT_COMMIT_ABORTED, default false: also bill requests whose client went away before the response finished. */
  readonly commitAborted: boolean;
  /** METERKIT_MODE, default live: 'dry-run' does everything except calling AWS. */
  readonly mode: 'live' | 'dry-run';
  /**
   * METERKIT_TARGET: 'emulator' (a local Marketplace Metering API started by the app) or 'aws'. Default aws when
   * METERKIT_AWS_REGION or METERKIT_AWS_ENDPOINT is set, emulator otherwise.
   */
  readonly target: 'emulator' | 'aws';
  /** METERKIT_AWS_REGION (target aws): the Metering API's region. Unset: the SDK's resolution (AWS_REGION, the profile's region). */
  readonly awsRegion?: string;
  /** METERKIT_AWS_ENDPOINT (target aws): another endpoint than AWS's own, e.g. a VPC endpoint or an emulator run apart. */
  readonly awsEndpoint?: string;
  /**
   * METERKIT_FLUSH_INTERVAL_MS (100 to 3 600 000): how often due hours are sent. Unset: every 60 000 ms, or every
   * emulated minute with METERKIT_EMULATOR_SPEED above 1.
   */
  readonly flushIntervalMs?: number;
  /** METERKIT_EMULATOR_PORT, default 4599 (target emulator). */
  readonly emulatorPort: number;
  /**
   * METERKIT_EMULATOR_SPEED, default 1 (target emulator): the emulator's time runs this many times as fast as real
   * time and the app's clock follows it (120: an emulated hour every 30 s), so usage is billed within a minute.
   */
  readonly emulatorSpeed: number;
  /**
   * METERKIT_CLOCK_OFFSET_MINUTES, default 0 (target emulator): the emulator (and the app's clock with it) starts this
   * many minutes from real time, e.g. -1440 to try the end of BatchMeterUsage's window.
   */
  readonly clockOffsetMinutes: number;
  /**
   * METERKIT_EVENTS_SECRET: what the EventBridge connection sends in x-api-key (at least 16 characters). Unset: with
   * the emulator a random one is made up (and printed), with AWS the lifecycle route is off.
   */
  readonly eventsSecret?: string;
}

/** The sample's own defaults. */
const DEFAULT_PRODUCT_CODE = 'prod-sample-api';
const DEFAULT_CONTRACT_PRODUCT_CODE = 'prod-sample-team';
const DEFAULT_STORE = 'sqlite:./meterkit.db';
const DEFAULT_EMULATOR_PORT = 4599;

/**
 * METERKIT_COMMIT_ON values, each a rule on the response's status code: `served` (below 400: refusals and failures
 * bill nothing, the adapters' default), `2xx` (200 to 299 only: redirects bill nothing either), `below-500` (client
 * errors such as 400 and 404 are billed too, server failures never).
 */
export const COMMIT_ON = {
  served: (status: number) => status < 400,
  '2xx': (status: number) => status >= 200 && status < 300,
  'below-500': (status: number) => status < 500,
} as const;

export type CommitOn = keyof typeof COMMIT_ON;

/** The adapter's commitPolicy for the configured METERKIT_COMMIT_ON and METERKIT_COMMIT_ABORTED. */
export function commitPolicy(config: Pick<SampleEnv, 'commitOn' | 'commitAborted'>): CommitPolicy {
  return { commitOn: COMMIT_ON[config.commitOn], commitAborted: config.commitAborted };
}

/** The longest lock meterkit accepts for BatchMeterUsage's 24-hour window (20 h: 3 h of retries stay). */
const MAX_LOCK_MINUTES = 1200;
const PRODUCT_CODE = /^[-a-zA-Z0-9/=:_.@]{1,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function refuse(name: string, accepted: string, raw: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `${name} must be ${accepted}, got ${JSON.stringify(raw)}.`, { details: { variable: name } });
}

/** The value of the first of `names` that is set and not empty. */
function read(env: NodeJS.ProcessEnv, ...names: string[]): { name: string; raw: string } | undefined {
  for (const name of names) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') return { name, raw };
  }
  return undefined;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value.raw)) refuse(name, `one of ${allowed.join(', ')}`, value.raw);
  return value.raw as T;
}

function numberIn(env: NodeJS.ProcessEnv, name: string, min: number, max: number, integer: boolean): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const parsed = Number(value.raw);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    refuse(name, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`, value.raw);
  }
  return parsed;
}

function speed(env: NodeJS.ProcessEnv): number {
  const value = read(env, 'METERKIT_EMULATOR_SPEED');
  if (value === undefined) return 1;
  const parsed = Number(value.raw);
  if (!Number.isFinite(parsed) || parsed <= 0 || parsed > MAX_SPEED) refuse('METERKIT_EMULATOR_SPEED', `a number above 0 and at most ${MAX_SPEED}`, value.raw);
  return parsed;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return numberIn(env, name, 0, 65_535, true) ?? fallback;
}

function dimensions(env: NodeJS.ProcessEnv): string[] {
  const value = read(env, 'METERKIT_DIMENSIONS');
  if (value === undefined) return [...DIMENSIONS];
  const accepted = `a comma-separated list of dimension API names (1 to 255 characters each, no repeats) including ${DIMENSIONS.join(' and ')}`;
  const names = value.raw.split(',').map((name) => name.trim());
  if (names.some((name) => name.length === 0 || name.length > 255) || new Set(names).size !== names.length) refuse(value.name, accepted, value.raw);
  if (!DIMENSIONS.every((needed) => names.includes(needed))) refuse(value.name, accepted, value.raw);
  return names;
}

function productCode(env: NodeJS.ProcessEnv, target: SampleEnv['target']): string {
  const value = read(env, 'METERKIT_PRODUCT_CODE');
  if (value === undefined) {
    if (target === 'aws') throw new MeterkitError(ErrorCodes.OPTIONS, 'METERKIT_PRODUCT_CODE is required with METERKIT_TARGET=aws: your listing\'s product code.', { details: { variable: 'METERKIT_PRODUCT_CODE' } });
    return DEFAULT_PRODUCT_CODE;
  }
  if (!PRODUCT_CODE.test(value.raw)) refuse(value.name, 'a product code (1 to 255 of letters, digits and - / = : _ . @)', value.raw);
  return value.raw;
}

/** The contract listing: sold with the emulator by default, against AWS only when named. */
function contractProductCode(env: NodeJS.ProcessEnv, target: SampleEnv['target'], subscription: string): string | undefined {
  const value = read(env, 'METERKIT_CONTRACT_PRODUCT_CODE');
  if (value === undefined) return target === 'aws' ? undefined : DEFAULT_CONTRACT_PRODUCT_CODE;
  if (!PRODUCT_CODE.test(value.raw)) refuse(value.name, 'a product code (1 to 255 of letters, digits and - / = : _ . @)', value.raw);
  if (value.raw === subscription) refuse(value.name, 'another product code than METERKIT_PRODUCT_CODE', value.raw);
  return value.raw;
}

function store(env: NodeJS.ProcessEnv): string {
  const value = read(env, 'METERKIT_STORE');
  if (value === undefined) return DEFAULT_STORE;
  if (!/^(memory|sqlite(:.+)?)$/.test(value.raw)) refuse('METERKIT_STORE', "'sqlite:<file>', 'sqlite' or 'memory'", value.raw);
  return value.raw;
}

function awsRegion(env: NodeJS.ProcessEnv): string | undefined {
  const value = read(env, 'METERKIT_AWS_REGION');
  if (value !== undefined && !REGION.test(value.raw)) refuse('METERKIT_AWS_REGION', 'an AWS region such as us-east-1', value.raw);
  return value?.raw;
}

function awsEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const value = read(env, 'METERKIT_AWS_ENDPOINT');
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value.raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) refuse('METERKIT_AWS_ENDPOINT', 'an http:// or https:// URL', value.raw);
  return value.raw;
}

function boolean(env: NodeJS.ProcessEnv, name: string): boolean {
  return oneOf(env, name, ['true', 'false'], 'false') === 'true';
}

function eventsSecret(env: NodeJS.ProcessEnv): string | undefined {
  const value = read(env, 'METERKIT_EVENTS_SECRET');
  if (value !== undefined && value.raw.length < 16) throw new MeterkitError(ErrorCodes.OPTIONS, 'METERKIT_EVENTS_SECRET must be at least 16 characters.', { details: { variable: 'METERKIT_EVENTS_SECRET' } });
  return value?.raw;
}

/** Refuses settings that only mean something with the other target. */
function onlyWith(target: SampleEnv['target'], names: readonly string[], reason: string): void {
  if (names.length === 0) return;
  const [verb, them] = names.length > 1 ? ['apply', 'them'] : ['applies', 'it'];
  const message = `${names.join(' and ')} ${verb} to METERKIT_TARGET=${target} only: ${reason}. Unset ${them}, or use METERKIT_TARGET=${target}.`;
  throw new MeterkitError(ErrorCodes.OPTIONS, message, { details: { variable: names[0] } });
}

/** Reads and checks the sample's configuration from environment variables (see the README); throws on a bad value. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): SampleEnv {
  const region = awsRegion(env);
  const endpoint = awsEndpoint(env);
  const target = oneOf(env, 'METERKIT_TARGET', ['emulator', 'aws'], region !== undefined || endpoint !== undefined ? 'aws' : 'emulator');
  const emulatorSpeed = speed(env);
  const clockOffsetMinutes = numberIn(env, 'METERKIT_CLOCK_OFFSET_MINUTES', -525_600, 525_600, true) ?? 0;
  if (target === 'aws') {
    // Against AWS the app's clock is real time: a shifted or faster clock would date usage in hours it did not happen.
    const shifted = [...(emulatorSpeed !== 1 ? ['METERKIT_EMULATOR_SPEED'] : []), ...(clockOffsetMinutes !== 0 ? ['METERKIT_CLOCK_OFFSET_MINUTES'] : [])];
    onlyWith('emulator', shifted, 'against AWS the app runs on real time');
  } else {
    const aws = [...(region !== undefined ? ['METERKIT_AWS_REGION'] : []), ...(endpoint !== undefined ? ['METERKIT_AWS_ENDPOINT'] : [])];
    onlyWith('aws', aws, 'with the emulator the app starts its own Metering API');
  }
  const flushIntervalMs = numberIn(env, 'METERKIT_FLUSH_INTERVAL_MS', 100, 3_600_000, true);
  const secret = eventsSecret(env);
  const subscription = productCode(env, target);
  const contract = contractProductCode(env, target, subscription);
  return {
    port: port(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    productCode: subscription,
    dimensions: dimensions(env),
    ...(contract === undefined ? {} : { contractProductCode: contract }),
    identity: oneOf(env, 'METERKIT_IDENTITY', ['license', 'legacy'], 'license'),
    store: store(env),
    appDb: env.METERKIT_APP_DB || './app.db',
    durability: oneOf(env, 'METERKIT_DURABILITY', ['interval', 'sync'], 'interval'),
    lockMinutes: numberIn(env, 'METERKIT_LOCK_MINUTES', 0, MAX_LOCK_MINUTES, false) ?? 10,
    commitOn: oneOf(env, 'METERKIT_COMMIT_ON', Object.keys(COMMIT_ON) as CommitOn[], 'served'),
    commitAborted: boolean(env, 'METERKIT_COMMIT_ABORTED'),
    mode: oneOf(env, 'METERKIT_MODE', ['live', 'dry-run'], 'live'),
    target,
    ...(region === undefined ? {} : { awsRegion: region }),
    ...(endpoint === undefined ? {} : { awsEndpoint: endpoint }),
    ...(flushIntervalMs === undefined ? {} : { flushIntervalMs }),
    emulatorPort: port(env, 'METERKIT_EMULATOR_PORT', DEFAULT_EMULATOR_PORT),
    emulatorSpeed,
    clockOffsetMinutes,
    ...(secret === undefined ? {} : { eventsSecret: secret }),
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
  /** The local emulator (METERKIT_TARGET=emulator). */
  readonly emulator?: Emulator;
  /** The lifecycle route's secret: METERKIT_EVENTS_SECRET, or a random one the emulator was configured with. */
  readonly eventsSecret?: string;
}

/** The engine settings an operator chooses, whatever the target. */
function engineOptions(env: SampleEnv, logger: Logger): Omit<MeteringOptions, 'aws'> {
  return {
    products: sampleProducts(env.productCode, env.contractProductCode, { dimensions: env.dimensions, identity: env.identity }),
    store: env.store,
    durability: env.durability,
    lockMinutes: env.lockMinutes,
    mode: env.mode,
    ...(env.flushIntervalMs === undefined ? {} : { flushIntervalMs: env.flushIntervalMs }),
    logger,
    autoStart: false,
  };
}

/**
 * AWS (METERKIT_TARGET=aws, the SDK's credential chain); otherwise a local emulator with the sample's products, on its
 * clock, that delivers lifecycle events to `eventsUrl` with the events secret, as an EventBridge API destination does.
 */
export async function createSampleMetering(env: SampleEnv, eventsUrl: string, logger: Logger = consoleLogger, options: SampleMeteringOptions = {}): Promise<MeteringSetup> {
  if (env.target === 'aws') {
    const aws = { ...(env.awsRegion === undefined ? {} : { region: env.awsRegion }), ...(env.awsEndpoint === undefined ? {} : { endpoint: env.awsEndpoint }) };
    const metering = createMetering({ ...engineOptions(env, logger), aws });
    return { metering, ...(env.eventsSecret === undefined ? {} : { eventsSecret: env.eventsSecret }) };
  }
  const eventsSecret = env.eventsSecret ?? randomBytes(24).toString('base64url');
  const timeSource = options.timeSource ?? Date.now;
  const emulator = await startEmulator({
    port: env.emulatorPort,
    speed: env.emulatorSpeed,
    timeSource,
    now: timeSource() + env.clockOffsetMinutes * 60_000,
    products: emulatorProducts(env.productCode, env.contractProductCode, { dimensions: env.dimensions, identity: env.identity }),
    events: { url: eventsUrl, headerValue: eventsSecret },
  });
  const metering = createMetering({
    ...engineOptions(env, logger),
    aws: { region: emulator.region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'emulator', secretAccessKey: 'emulator' } },
    // The app's hours, lock and windows in the emulator's time, which METERKIT_EMULATOR_SPEED and
    // METERKIT_CLOCK_OFFSET_MINUTES move away from real time. An explicit METERKIT_FLUSH_INTERVAL_MS wins.
    clock: () => emulator.clock.now(),
    ...acceleratedTimeOptions(env.emulatorSpeed),
    ...(env.flushIntervalMs === undefined ? {} : { flushIntervalMs: env.flushIntervalMs }),
  });
  return { metering, emulator, eventsSecret };
}
