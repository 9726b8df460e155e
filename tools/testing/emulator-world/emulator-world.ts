import { createMetering, silentLogger, type CustomerIdentity, type CustomerRecord, type Metering, type MeteringOptions, type ProductConfig } from '@meterkit/core';
import { startEmulator, type Emulator, type StartEmulatorOptions, type SubscribeOptions, type Subscription } from '@meterkit/emulator';

/** The emulator and meterkit on one clock: the engine reads the emulator's time, tests move it with `setTime`. */

export const at = (iso: string): number => Date.parse(iso);
/** Where every world starts: 20 minutes into the 10:00 UTC hour. */
export const START = at('2026-07-15T10:20:00Z');
/** 10:00's hour is closed and its 10-minute lock passed: a flush sends it. */
export const HOUR_CLOSED = at('2026-07-15T11:11:00Z');
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export function identityOf(subscription: Subscription): CustomerIdentity {
  return subscription.licenseArn !== undefined
    ? { kind: 'license', licenseArn: subscription.licenseArn, customerAwsAccountId: subscription.accountId, productCode: subscription.productCode }
    : { kind: 'legacy', customerIdentifier: subscription.customerIdentifier!, productCode: subscription.productCode };
}

/** Engine options pointed at `emu`, on its clock, scheduler off (tests flush by hand), fast retries, memory store. */
export function meteringOptionsFor(emu: Emulator, products: readonly ProductConfig[], overrides: Partial<MeteringOptions> = {}): MeteringOptions {
  return {
    products: [...products],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: TEST_CREDENTIALS },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  };
}

/** An emulator selling `products` (the engine's product configs, as the emulator's listings), started at START. */
export function startProductEmulator(products: readonly ProductConfig[], options: StartEmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({
    now: START,
    products: products.map((p) => ({ productCode: p.productCode, dimensions: [...p.dimensions], ...(p.identity === 'legacy' ? { identity: 'legacy' as const } : {}) })),
    ...options,
  });
}

export interface EmulatorWorld {
  readonly emu: Emulator;
  readonly metering: Metering;
  /** Moves both clocks: meterkit reads the emulator's. */
  setTime(time: string | number): void;
  /** A buyer subscribed in the emulator (not registered with the engine). */
  subscribe(productCode: string, options?: Omit<SubscribeOptions, 'productCode'>): Promise<{ subscription: Subscription; identity: CustomerIdentity }>;
  /** A buyer subscribed, registered with the engine (ResolveCustomer) and linked to `tenant`. */
  buyer(productCode: string, tenant: string): Promise<{ subscription: Subscription; customer: CustomerRecord }>;
  /** Closes 10:00's hour and its lock, then flushes. */
  flushClosedHour(): Promise<void>;
  /** What the emulator accepted for the query. */
  billed(query: Parameters<Emulator['inspect']['totalFor']>[0]): number;
  close(): Promise<void>;
}

export interface EmulatorWorldOptions {
  readonly products: readonly ProductConfig[];
  /** Engine option overrides, or a function of the emulator (for options that need its endpoint or clock). */
  readonly metering?: Partial<MeteringOptions> | ((emu: Emulator) => Partial<MeteringOptions>);
  readonly emulator?: StartEmulatorOptions;
}

/** An emulator and one engine pointed at it; closing the world closes both. */
export async function startEmulatorWorld(options: EmulatorWorldOptions): Promise<EmulatorWorld> {
  const emu = await startProductEmulator(options.products, options.emulator);
  let metering: Metering;
  try {
    const overrides = typeof options.metering === 'function' ? options.metering(emu) : options.metering;
    metering = createMetering(meteringOptionsFor(emu, options.products, overrides));
  } catch (error) {
    await emu.close();
    throw error;
  }
  return {
    emu,
    metering,
    setTime: (time) => emu.clock.set(typeof time === 'number' ? time : at(time)),
    async subscribe(productCode, subscribeOptions = {}) {
      const subscription = await emu.subscribe({ productCode, ...subscribeOptions });
      return { subscription, identity: identityOf(subscription) };
    },
    async buyer(productCode, tenant) {
      const subscription = await emu.subscribe({ productCode });
      const resolved = await metering.resolveRegistration(subscription.token);
      const customer = await metering.linkTenant(resolved.key, tenant);
      return { subscription, customer };
    },
    async flushClosedHour() {
      emu.clock.set(HOUR_CLOSED);
      await metering.flush();
    },
    billed: (query) => emu.inspect.totalFor(query),
    async close() {
      await metering.close().catch(() => undefined);
      await emu.close();
    },
  };
}
