/**
 * followEmulatorClock(): the emulated time of an emulator running in another process, as a synchronous
 * `() => number` for an app's clock (meterkit's `clock` option). It reads GET /_emulator/clock now and then and
 * moves the last reading on at the emulator's speed in between.
 */
import type { ClockView } from './admin/routes';

export interface FollowClockOptions {
  /** How often the emulator's clock is read again, in real milliseconds. Default 1000, at least 10. */
  syncIntervalMs?: number;
  /** Real time (ms epoch). Default Date.now; tests inject the emulator's own. */
  source?: () => number;
  /** Called when a periodic reading fails; the clock keeps moving on from the last reading. Default: ignored. */
  onError?: (error: Error) => void;
}

export interface FollowedClock {
  /** Emulated time (ms epoch): never goes back, except when the emulator's clock was set back. */
  readonly now: () => number;
  /** Emulated milliseconds per real millisecond, as last read. */
  readonly speed: () => number;
  /** Reads the emulator's clock now. */
  sync(): Promise<void>;
  /** Stops the periodic reading. */
  close(): void;
}

interface Reading {
  emulated: number;
  /** Real time at which `emulated` was read: the middle of the request. */
  real: number;
  speed: number;
  generation: number;
}

const READ_TIMEOUT_MS = 5000;

async function read(url: string, source: () => number): Promise<Reading> {
  const before = source();
  // A reading that never comes back must not hold up the next ones.
  const res = await fetch(`${url.replace(/\/+$/, '')}/_emulator/clock`, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET /_emulator/clock answered ${res.status}`);
  const view = (await res.json()) as Partial<ClockView>;
  const after = source();
  if (typeof view.now !== 'number') throw new Error(`${url} is not a meterkit emulator: GET /_emulator/clock has no time`);
  // Emulators without accelerated time answer no speed and no generation: they run with real time.
  return { emulated: view.now, real: (before + after) / 2, speed: view.speed ?? 1, generation: view.generation ?? 0 };
}

/** Reads the emulator's clock once (rejects if it cannot), then keeps following it. */
export async function followEmulatorClock(url: string, options: FollowClockOptions = {}): Promise<FollowedClock> {
  const source = options.source ?? Date.now;
  const interval = options.syncIntervalMs ?? 1000;
  if (!Number.isFinite(interval) || interval < 10) throw new TypeError(`syncIntervalMs must be at least 10, got ${String(interval)}`);
  let reading = await read(url, source);
  let last = -Infinity;
  let syncing: Promise<void> | undefined;

  const sync = (): Promise<void> =>
    (syncing ??= read(url, source)
      .then((next) => {
        // A new generation is a jump on the emulator (set, advance, speed): follow it, even backwards.
        if (next.generation !== reading.generation) last = -Infinity;
        reading = next;
      })
      .finally(() => {
        syncing = undefined;
      }));

  const timer = setInterval(() => {
    sync().catch((error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error))));
  }, interval);
  timer.unref();

  return {
    now: () => {
      const estimate = Math.floor(reading.emulated + (source() - reading.real) * reading.speed);
      // Between jumps, a newer reading may land a little behind the previous estimate: never step back for that.
      last = Math.max(last, estimate);
      return last;
    },
    speed: () => reading.speed,
    sync,
    close: () => clearInterval(timer),
  };
}
