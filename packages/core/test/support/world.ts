import type { Emulator, StartEmulatorOptions } from '@meterkit/emulator';
import type { CustomerIdentity, Metering, MeteringOptions, ProductConfig } from '../../src';
import { at, identityOf, startEmulatorWorld } from '../../../../tools/testing/emulator-world/emulator-world';

export { at, identityOf };

export const LICENSED = 'prod-licensed';
export const LEGACY = 'prod-legacy';
export const DIMENSIONS = ['api_calls', 'gb_processed', ...Array.from({ length: 10 }, (_, i) => `d${String(i).padStart(2, '0')}`)];

const PRODUCTS: ProductConfig[] = [
  { productCode: LICENSED, dimensions: DIMENSIONS },
  { productCode: LEGACY, dimensions: DIMENSIONS, identity: 'legacy' },
];

export interface World {
  emu: Emulator;
  metering: Metering;
  /** Moves both clocks: meterkit reads the emulator's. */
  setTime(iso: string): void;
  license(): Promise<CustomerIdentity>;
  legacyCustomer(): Promise<CustomerIdentity>;
  close(): Promise<void>;
}

/** An emulator with a licensed and a legacy product, and a Metering instance pointed at it with the same clock. */
export async function startWorld(options: Partial<MeteringOptions> = {}, emulator: StartEmulatorOptions = {}): Promise<World> {
  const world = await startEmulatorWorld({ products: PRODUCTS, metering: { requestsPerSecond: 10, ...options }, emulator });
  return {
    emu: world.emu,
    metering: world.metering,
    setTime: (iso) => world.setTime(iso),
    license: async () => (await world.subscribe(LICENSED)).identity,
    legacyCustomer: async () => (await world.subscribe(LEGACY)).identity,
    close: () => world.close(),
  };
}

export function batchCalls(emu: Emulator): Array<{ records?: number; status: number; error?: string }> {
  return emu.inspect.calls('BatchMeterUsage');
}
