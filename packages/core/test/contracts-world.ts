import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator, type StartEmulatorOptions, type Subscription } from '@meterkit/emulator';
import {
  createMetering,
  LifecycleReceiver,
  silentLogger,
  type ContractEntitlementsOptions,
  type CustomerIdentity,
  type EntitlementSet,
  type LifecycleResult,
  type Metering,
  type MeteringEvents,
  type MeteringOptions,
  type ProductConfig,
} from '../src';

/** A license contract, a license contract with consumption, and a legacy contract; plus a subscription product. */
export const CONTRACT = 'prod-contract';
export const CONSUMPTION = 'prod-consume';
export const LEGACY_CONTRACT = 'prod-legacy-ctr';
export const SUBSCRIPTION = 'prod-subscribe';
export const SECRET = 'contracts-test-secret-0123456789';
export const START = Date.parse('2026-07-15T10:20:00Z');

export const PRODUCTS: ProductConfig[] = [
  { productCode: CONTRACT, dimensions: [], pricing: 'contract', entitlements: ['seats', 'tier'] },
  {
    productCode: CONSUMPTION,
    dimensions: ['api_calls', 'storage'],
    pricing: 'contract-with-consumption',
    entitlements: ['seats'],
    included: { api_calls: { entitlement: 'calls' } },
  },
  { productCode: LEGACY_CONTRACT, dimensions: [], pricing: 'contract', identity: 'legacy', entitlements: ['seats', 'tier'] },
  { productCode: SUBSCRIPTION, dimensions: ['api_calls'] },
];

/** What each contract product's buyer buys first, and the amendment that raises it. */
export const BOUGHT: Record<string, { first: Record<string, number | string>; raised: Record<string, number> }> = {
  [CONTRACT]: { first: { seats: 10, tier: 'gold' }, raised: { seats: 20 } },
  [CONSUMPTION]: { first: { seats: 5, calls: 1000 }, raised: { seats: 8 } },
  [LEGACY_CONTRACT]: { first: { seats: 10, tier: 'gold' }, raised: { seats: 20 } },
};

export function identityOf(subscription: Subscription): CustomerIdentity {
  return subscription.licenseArn !== undefined
    ? { kind: 'license', licenseArn: subscription.licenseArn, customerAwsAccountId: subscription.accountId, productCode: subscription.productCode }
    : { kind: 'legacy', customerIdentifier: subscription.customerIdentifier!, productCode: subscription.productCode };
}

/** Where the emulator delivers EventBridge events and SNS notifications: the first instance's lifecycle route. */
export interface Deliveries {
  readonly url: string;
  /** Accept deliveries (answer 200) without applying them, until release(). */
  hold(): void;
  /** Applies the held deliveries in order, and applies the next ones as they come. */
  release(): Promise<LifecycleResult[]>;
  readonly results: LifecycleResult[];
  close(): Promise<void>;
}

export interface ContractsWorld {
  readonly emu: Emulator;
  /** Engines sharing one SQLite file, on the emulator's clock; the first receives the events. */
  readonly instances: Metering[];
  readonly deliveries: Deliveries;
  readonly file: string;
  /** One more engine on the same file (a restart). */
  start(): Metering;
  /** Moves the emulated clock (the engines read it) by `ms`. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export interface ContractsWorldOptions {
  readonly instances?: number;
  readonly entitlements?: ContractEntitlementsOptions;
  readonly emulator?: StartEmulatorOptions;
  /** Deliver the emulator's events to the first instance. Default true. */
  readonly events?: boolean;
  readonly metering?: Partial<MeteringOptions>;
}

async function startDeliveries(metering: () => Metering): Promise<Deliveries> {
  let receiver: LifecycleReceiver | undefined;
  let held: Array<{ headers: IncomingHttpHeaders; body: Buffer }> | undefined;
  const results: LifecycleResult[] = [];
  const apply = async (delivery: { headers: IncomingHttpHeaders; body: Buffer }) => {
    receiver ??= new LifecycleReceiver(metering(), { path: '/events', secret: SECRET, sns: { trustCertificateUrl: (url) => url.hostname === '127.0.0.1', maxAgeMs: 86_400_000 } });
    const result = await receiver.handle(delivery);
    results.push(result);
    return result;
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const delivery = { headers: request.headers, body: Buffer.concat(chunks) };
      if (held !== undefined) {
        held.push(delivery);
        response.writeHead(200).end('{}');
        return;
      }
      void apply(delivery).then((result) => response.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    hold: () => void (held ??= []),
    async release() {
      const queue = held ?? [];
      held = undefined;
      const out: LifecycleResult[] = [];
      for (const delivery of queue) out.push(await apply(delivery));
      return out;
    },
    results,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function startContractsWorld(options: ContractsWorldOptions = {}): Promise<ContractsWorld> {
  const dir = mkdtempSync(path.join(tmpdir(), 'meterkit-contracts-'));
  const file = path.join(dir, 'meterkit.db');
  const instances: Metering[] = [];
  const deliveries = await startDeliveries(() => instances[0]!);
  const events = options.events ?? true;
  const emu = await startEmulator({
    now: START,
    // Emulated time stands still unless a test moves it (the engines read it as their clock).
    timeSource: () => 0,
    products: PRODUCTS.map((p) => ({
      productCode: p.productCode,
      dimensions: [...p.dimensions],
      ...(p.identity === 'legacy' ? { identity: 'legacy' as const } : {}),
      ...(p.pricing === undefined ? {} : { pricing: p.pricing }),
      ...(p.pricing === undefined ? {} : { contractDimensions: [...(p.entitlements ?? []), ...Object.values(p.included ?? {}).map((i) => i.entitlement ?? '')].filter(Boolean) }),
    })),
    ...(events ? { events: { url: deliveries.url, headerValue: SECRET }, sns: { url: deliveries.url } } : {}),
    ...options.emulator,
  });
  const start = () => {
    const metering = createMetering({
      products: PRODUCTS,
      store: `sqlite:${file}`,
      aws: { region: 'eu-west-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      entitlements: { retry: { baseDelayMs: 20, maxDelayMs: 500 }, ...options.entitlements },
      ...options.metering,
    });
    instances.push(metering);
    return metering;
  };
  for (let i = 0; i < (options.instances ?? 1); i++) start();
  return {
    emu,
    instances,
    deliveries,
    file,
    start,
    advance: (ms) => emu.clock.set(emu.clock.now() + ms),
    async close() {
      await emu.idle().catch(() => undefined);
      for (const metering of instances) await metering.close().catch(() => undefined);
      await emu.close();
      await deliveries.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The next entitlementsChanged on `metering` that `matches`. */
export function nextChange(metering: Metering, matches: (e: MeteringEvents['entitlementsChanged']) => boolean = () => true): Promise<MeteringEvents['entitlementsChanged']> {
  return new Promise((resolve) => {
    const listener = (e: MeteringEvents['entitlementsChanged']) => {
      if (!matches(e)) return;
      metering.off('entitlementsChanged', listener);
      resolve(e);
    };
    metering.on('entitlementsChanged', listener);
  });
}

export const valueOf = (set: EntitlementSet | undefined, dimension: string) => set?.entitlements.find((e) => e.dimension === dimension)?.value;
