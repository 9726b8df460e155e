/**
 * Emulated time: a line through an anchor, `anchorEmulated + (source() - anchorReal) * speed`. `set` jumps to a
 * given instant, `advance` moves forward, `setSpeed` changes the rate from now on; either way the clock keeps
 * running with the time source afterwards.
 */
export interface EmulatorClock {
  now(): number;
  set(t: number | Date): void;
  advance(ms: number): void;
  /** Emulated milliseconds per real millisecond: 1 runs with real time, 120 makes a real second two emulated minutes. */
  readonly speed: number;
  /** From now on run `speed` times as fast as real time (the emulated time reached so far is kept). */
  setSpeed(speed: number): void;
  /** Counts set, advance and speed changes: a reader that interpolates knows its last reading no longer applies. */
  readonly generation: number;
}

export interface ClockOptions {
  /** Initial emulated time. Default: the time source's. */
  now?: number | Date;
  /** Default 1. */
  speed?: number;
  /** Real time (ms epoch). Default Date.now; tests inject their own. */
  source?: () => number;
}

/** The fastest accelerated clock: one real second is 10 emulated hours. */
export const MAX_SPEED = 36_000;

export function checkSpeed(speed: unknown): number {
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0 || speed > MAX_SPEED)
    throw new TypeError(`clock speed must be a number above 0 and at most ${MAX_SPEED}, got ${String(speed)}`);
  return speed;
}

/** `emulated time runs 120x real time: an emulated hour every 30 s of real time`. */
export function describeSpeed(speed: number): string {
  const secondsPerHour = 3600 / speed;
  const hour = secondsPerHour >= 120 ? `${+(secondsPerHour / 60).toFixed(1)} min` : `${+secondsPerHour.toFixed(2)} s`;
  return `emulated time runs ${speed}x real time: an emulated hour every ${hour} of real time`;
}

/** One line for a log: the emulated time, and how it differs from real time. */
export function describeEmulatedTime(clock: Pick<EmulatorClock, 'now' | 'speed'>, realNow: number = Date.now()): string {
  const now = clock.now();
  const at = `emulated time ${new Date(now).toISOString()}`;
  if (clock.speed !== 1) return `${at}; ${describeSpeed(clock.speed)}`;
  const minutes = Math.round((now - realNow) / 60_000);
  if (minutes === 0) return `${at}: real time`;
  return `${at}: ${Math.abs(minutes)} minute${Math.abs(minutes) === 1 ? '' : 's'} ${minutes < 0 ? 'behind' : 'ahead of'} real time`;
}

export class Clock implements EmulatorClock {
  private readonly source: () => number;
  private anchorReal: number;
  private anchorEmulated: number;
  private rate: number;
  private changes = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(options: ClockOptions | number | Date = {}) {
    const o: ClockOptions = typeof options === 'number' || options instanceof Date ? { now: options } : options;
    this.source = o.source ?? Date.now;
    this.rate = checkSpeed(o.speed ?? 1);
    this.anchorReal = this.source();
    this.anchorEmulated = this.anchorReal;
    if (o.now !== undefined) this.set(o.now);
  }

  get speed(): number {
    return this.rate;
  }

  get generation(): number {
    return this.changes;
  }

  now(): number {
    return Math.floor(this.anchorEmulated + (this.source() - this.anchorReal) * this.rate);
  }

  set(t: number | Date): void {
    const ms = t instanceof Date ? t.getTime() : t;
    if (!Number.isFinite(ms)) throw new TypeError(`clock.set: invalid time ${String(t)}`);
    this.anchor(ms);
    this.changed();
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new TypeError(`clock.advance: invalid duration ${String(ms)}`);
    this.anchor(this.now() + ms);
    this.changed();
  }

  setSpeed(speed: number): void {
    const next = checkSpeed(speed);
    this.anchor(this.now());
    this.rate = next;
    this.changed();
  }

  /** Called after every set/advance/setSpeed (used to fire time-based lifecycle steps without waiting). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private anchor(emulated: number): void {
    this.anchorReal = this.source();
    this.anchorEmulated = emulated;
  }

  private changed(): void {
    this.changes++;
    for (const l of this.listeners) l();
  }
}
