import { createMetering, MemoryStore, type CustomerRecord, type StoredRecord, type Metering, type MeteringOptions } from '@meterkit/core';
import type { Emulator } from '@meterkit/emulator';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import { at, HOUR_CLOSED, meteringOptionsFor, startProductEmulator } from '../../../../tools/testing/emulator-world/emulator-world';
import { meterkit, type MeterkitMiddleware, type MeterkitOptions } from '../../src';

export const PRODUCT = 'prod-express-test';
export const DIMENSIONS = ['api_calls', 'rows_exported'];
const PRODUCTS = [{ productCode: PRODUCT, dimensions: DIMENSIONS }];
export const REGISTER_PATH = '/marketplace/register';
export { at };

/** A MemoryStore that can be switched off, to play a store outage. */
export class FlakyStore extends MemoryStore {
  down = false;
  /** What the store held when it was closed. */
  recordsAtClose: StoredRecord[] | undefined;

  override async close(): Promise<void> {
    this.recordsAtClose = await this.listRecords();
    await super.close();
  }

  override async findCustomerByTenant(tenantId: string): Promise<CustomerRecord | undefined> {
    if (this.down) throw new Error('connection refused');
    return super.findCustomerByTenant(tenantId);
  }

  override async addUsage(...args: Parameters<MemoryStore['addUsage']>): ReturnType<MemoryStore['addUsage']> {
    if (this.down) throw new Error('connection refused');
    return super.addUsage(...args);
  }
}

export interface World {
  emu: Emulator;
  metering: Metering;
  store: FlakyStore;
  mk: MeterkitMiddleware;
  app: Express;
  /** Subscribes a buyer in the emulator and links it to `tenant` in the registry. */
  buyer(tenant: string): Promise<{ licenseArn: string; accountId: string; customer: CustomerRecord }>;
  /** Closes the hour 10:00 UTC and its lock, then flushes. */
  closeHourAndFlush(): Promise<void>;
  billed(licenseArn: string, dimension: string): number;
  close(): Promise<void>;
}

/**
 * An emulator, a core pointed at it on the emulator's clock, and a minimal Express app metered with the tenant named
 * in the `x-tenant` header. `routes` adds the app's routes after the metering middleware.
 */
export async function startWorld(
  options: Partial<MeterkitOptions> = {},
  routes: (app: Express, mk: MeterkitMiddleware) => void = () => undefined,
  core: Partial<MeteringOptions> | ((emu: Emulator) => Partial<MeteringOptions>) = {},
): Promise<World> {
  const emu = await startProductEmulator(PRODUCTS);
  const store = new FlakyStore();
  const metering = createMetering(meteringOptionsFor(emu, PRODUCTS, { store, ...(typeof core === 'function' ? core(emu) : core) }));
  const mk = meterkit(metering, { identify: (req) => req.get('x-tenant'), manageLifecycle: false, ...options });
  const app = express();
  app.use(mk);
  routes(app, mk);
  app.use((error: Error & { code?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status ?? 500).json({ error: { code: error.code ?? 'APP_ERROR', message: error.message } });
  });
  return {
    emu,
    metering,
    store,
    mk,
    app,
    async buyer(tenant) {
      const subscription = await emu.subscribe({ productCode: PRODUCT });
      const resolved = await metering.resolveRegistration(subscription.token);
      const customer = await metering.linkTenant(resolved.key, tenant);
      return { licenseArn: subscription.licenseArn!, accountId: subscription.accountId, customer };
    },
    async closeHourAndFlush() {
      emu.clock.set(HOUR_CLOSED);
      await metering.flush();
    },
    billed: (licenseArn, dimension) => emu.inspect.totalFor({ licenseArn, dimension }),
    async close() {
      await mk.close().catch(() => undefined);
      await emu.close();
    },
  };
}

/** Listens on 127.0.0.1 on a random port; resolves to the base URL and a closer. */
export async function listen(app: Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
