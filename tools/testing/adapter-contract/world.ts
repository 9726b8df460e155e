import { createMetering, MemoryStore, silentLogger, type Metering, type StoredRecord } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DIMENSION, TENANT_HEADER, type AdapterDriver, type ContractApp, type ContractAppOptions } from './driver';

export const PRODUCT = 'prod-contract1';
export const LEGACY_PRODUCT = 'prod-contract-legacy';
/** A product sold as an AWS Marketplace contract (no metering), configured with `contracts: true`. */
export const CONTRACT_PRODUCT = 'prod-contract-seats';
/** The contract dimensions of CONTRACT_PRODUCT. */
export const ENTITLEMENTS = ['seats', 'sso'];
export const REGISTER_PATH = '/marketplace/register';
export const EVENTS_PATH = '/marketplace/events';
export const SECRET = 'an-api-destination-secret-0123456789';
export const STATUS_TOKEN = 'a-status-page-token-0123456789';
export const at = (iso: string): number => Date.parse(iso);
export const START = at('2026-07-15T10:20:00Z');
/** 10:00's hour is closed and its lock passed: a flush sends it. */
export const HOUR_CLOSED = at('2026-07-15T11:11:00Z');

/** A MemoryStore that remembers what it held when the engine closed it, and whose customer table can be switched off. */
export class WatchedStore extends MemoryStore {
  recordsAtClose: StoredRecord[] | undefined;
  /** Customer reads and writes fail, as with a database that is down. */
  customersDown = false;

  override async getCustomer(...args: Parameters<MemoryStore['getCustomer']>): ReturnType<MemoryStore['getCustomer']> {
    if (this.customersDown) throw new Error('connection refused');
    return super.getCustomer(...args);
  }

  override async putCustomer(...args: Parameters<MemoryStore['putCustomer']>): ReturnType<MemoryStore['putCustomer']> {
    if (this.customersDown) throw new Error('connection refused');
    return super.putCustomer(...args);
  }

  override async findCustomerByTenant(...args: Parameters<MemoryStore['findCustomerByTenant']>): ReturnType<MemoryStore['findCustomerByTenant']> {
    if (this.customersDown) throw new Error('connection refused');
    return super.findCustomerByTenant(...args);
  }

  override async close(): Promise<void> {
    this.recordsAtClose = await this.listRecords();
    await super.close();
  }
}

export interface World {
  readonly emu: Emulator;
  readonly metering: Metering;
  readonly store: WatchedStore;
  readonly app: ContractApp;
  readonly url: string;
  /** Sends a request to the app and reads the whole answer. */
  send(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array }): Promise<Answer>;
  /** Resolves once every response the server started has closed and the adapters' close listeners ran. */
  settled(): Promise<void>;
  /** A buyer subscribed in the emulator and linked to `tenant`. */
  buyer(tenant: string): Promise<{ licenseArn: string }>;
  /** A buyer of CONTRACT_PRODUCT holding `dimensions`, registered (its entitlements read) and linked to `tenant`. */
  contractBuyer(tenant: string, dimensions: Record<string, number | boolean | string>): Promise<{ licenseArn: string }>;
  /** Closes 10:00's hour and flushes; answers what AWS (the emulator) accepted for the license. */
  billed(licenseArn: string): Promise<number>;
  close(): Promise<void>;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = any>(): T;
}

export interface WorldOptions {
  readonly app?: Omit<ContractAppOptions, 'metering'>;
  /** Deliver EventBridge events (with the connection's secret) to the lifecycle path. */
  readonly events?: boolean;
  /** Deliver legacy SNS notifications to the lifecycle path. */
  readonly sns?: boolean;
  /** Configure CONTRACT_PRODUCT (pricing 'contract', entitlements ENTITLEMENTS) in the emulator and the core too. */
  readonly contracts?: boolean;
  /** The core's registration deadline and AWS call bound (defaults: the core's). */
  readonly bounds?: { readonly registrationTimeoutMs?: number; readonly callTimeoutMs?: number };
}

/**
 * An emulator, a core on the emulator's clock (scheduler off until the adapter starts it), and the driver's app on
 * a server that listens first, so the emulator knows where to deliver events.
 */
export async function startWorld(driver: AdapterDriver, options: WorldOptions = {}): Promise<World> {
  const server: Server = createServer();
  let open = 0;
  const idle: (() => void)[] = [];
  // Registered before the driver's listener: sees every request, and its 'close' listener runs first.
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    open++;
    res.once('close', () =>
      setImmediate(() => {
        open--;
        if (open === 0) for (const resolve of idle.splice(0)) resolve();
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const products = [
    { productCode: PRODUCT, dimensions: [DIMENSION] },
    { productCode: LEGACY_PRODUCT, dimensions: [DIMENSION], identity: 'legacy' as const },
  ];
  const contract = { productCode: CONTRACT_PRODUCT, dimensions: [] as string[], pricing: 'contract' as const };
  const emu = await startEmulator({
    now: START,
    products: options.contracts ? [...products, { ...contract, contractDimensions: ENTITLEMENTS }] : products,
    ...(options.events ? { events: { url: `${url}${EVENTS_PATH}`, headerValue: SECRET, retries: 0 } } : {}),
    ...(options.sns ? { sns: { url: `${url}${EVENTS_PATH}` } } : {}),
  });
  const store = new WatchedStore();
  const metering = createMetering({
    products: options.contracts ? [...products, { ...contract, entitlements: ENTITLEMENTS }] : products,
    store,
    aws: {
      region: 'us-east-1',
      endpoint: emu.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...(options.bounds?.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.bounds.callTimeoutMs }),
    },
    ...(options.bounds?.registrationTimeoutMs === undefined ? {} : { registrationTimeoutMs: options.bounds.registrationTimeoutMs }),
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  let app: ContractApp;
  try {
    app = await driver.start(server, { metering, ...options.app });
  } catch (error) {
    await metering.close().catch(() => undefined);
    await emu.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  let closed = false;
  const world: World = {
    emu,
    metering,
    store,
    app,
    url,
    async send(path, init = {}) {
      const response = await fetch(`${url}${path}`, { method: init.method ?? 'GET', headers: init.headers ?? {}, body: init.body ?? null, redirect: 'manual' });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
    },
    settled() {
      return new Promise<void>((resolve) => (open === 0 ? setImmediate(resolve) : idle.push(resolve)));
    },
    async buyer(tenant) {
      const subscription = await emu.subscribe({ productCode: PRODUCT });
      const customer = await metering.resolveRegistration(subscription.token);
      await metering.linkTenant(customer.key, tenant);
      return { licenseArn: subscription.licenseArn! };
    },
    async contractBuyer(tenant, dimensions) {
      const subscription = await emu.subscribe({ productCode: CONTRACT_PRODUCT, contract: { dimensions } });
      const customer = await metering.resolveRegistration(subscription.token);
      await metering.linkTenant(customer.key, tenant);
      return { licenseArn: subscription.licenseArn! };
    },
    async billed(licenseArn) {
      await world.settled();
      emu.clock.set(HOUR_CLOSED);
      await metering.flush();
      return emu.inspect.totalFor({ licenseArn, dimension: DIMENSION });
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close().catch(() => undefined);
      await metering.close().catch(() => undefined);
      await emu.close();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return world;
}

/** Headers of a metered request of `tenant`. */
export function as(tenant: string): Record<string, string> {
  return { [TENANT_HEADER]: tenant };
}

/** A registration form post of `token`. */
export function registrationForm(token: string): { method: string; headers: Record<string, string>; body: string } {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `x-amzn-marketplace-token=${encodeURIComponent(token)}`,
  };
}
