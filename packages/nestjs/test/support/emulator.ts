import { startEmulator, type Emulator } from '@meterkit/emulator';
import { silentLogger, type MeteringOptions } from '@meterkit/core';

export const PRODUCT = 'prod-nestjs1';
export const DIMENSIONS = ['api_calls', 'gb_processed'];

export function startProductEmulator(): Promise<Emulator> {
  return startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
}

/** Core options pointed at the emulator, on its clock, with the scheduler off: tests flush by hand. */
export function coreOptions(emu: Emulator): MeteringOptions {
  return {
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  };
}
