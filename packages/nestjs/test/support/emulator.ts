import type { Emulator } from '@meterkit/emulator';
import type { MeteringOptions } from '@meterkit/core';
import { meteringOptionsFor, startProductEmulator as startEmulatorFor } from '../../../../tools/testing/emulator-world/emulator-world';

export const PRODUCT = 'prod-nestjs1';
export const DIMENSIONS = ['api_calls', 'gb_processed'];
const PRODUCTS = [{ productCode: PRODUCT, dimensions: DIMENSIONS }];

export function startProductEmulator(): Promise<Emulator> {
  return startEmulatorFor(PRODUCTS);
}

/** Core options pointed at the emulator, on its clock, with the scheduler off: tests flush by hand. */
export function coreOptions(emu: Emulator): MeteringOptions {
  return meteringOptionsFor(emu, PRODUCTS);
}
