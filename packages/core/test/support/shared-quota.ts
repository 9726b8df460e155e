import type { Emulator } from '@meterkit/emulator';
import { createMetering, type FlushReport, type Metering, type MeteringOptions, type ProductConfig } from '../../src';
import { HOUR_CLOSED, identityOf, meteringOptionsFor, startProductEmulator } from '../../../../tools/testing/emulator-world/emulator-world';

/** Several engines on one store flushing at once against the emulator, on its clock (running with real time). */

export const QUOTA_PRODUCT: ProductConfig = { productCode: 'prod-quota', dimensions: Array.from({ length: 10 }, (_, i) => `d${i}`) };

/** The most calls in any closed interval `windowMs` long. */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! > windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

export interface SharedQuotaRun {
  /** Each engine's flush report, in engine order. */
  readonly reports: FlushReport[];
  /** When the emulator received each BatchMeterUsage call (its clock). */
  readonly callTimes: number[];
  readonly records: number;
}

/**
 * `buyers` buyers each use every dimension of QUOTA_PRODUCT once in the 10:00 hour, metered by the first engine;
 * once the hour is closed, all engines flush at once. Each claim takes up to 500 records: 1500 records keep
 * three engines sending together.
 */
export async function flushTogether(
  engines: number,
  buyers: number,
  options: (emu: Emulator, engine: number) => Partial<MeteringOptions>,
): Promise<SharedQuotaRun> {
  const emu = await startProductEmulator([QUOTA_PRODUCT]);
  const meterings: Metering[] = [];
  try {
    for (let e = 0; e < engines; e++) meterings.push(createMetering(meteringOptionsFor(emu, [QUOTA_PRODUCT], options(emu, e))));
    const first = meterings[0]!;
    for (let b = 0; b < buyers; b++) {
      const identity = identityOf(await emu.subscribe({ productCode: QUOTA_PRODUCT.productCode }));
      const meter = first.meter(identity);
      for (const dimension of QUOTA_PRODUCT.dimensions) meter.record(dimension);
      await meter.commit();
    }
    await first.persist();
    emu.clock.set(HOUR_CLOSED);
    const reports = await Promise.all(meterings.map((metering) => metering.flush()));
    const callTimes = emu.inspect.calls('BatchMeterUsage').map((call) => call.at);
    return { reports, callTimes, records: emu.inspect.records().length };
  } finally {
    for (const metering of meterings) await metering.close().catch(() => undefined);
    await emu.close();
  }
}
