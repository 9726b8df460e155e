/**
 * Emulated time: real time plus an offset. `set` jumps to a given instant, `advance` moves forward;
 * either way the clock keeps advancing with real time afterwards.
 */
export interface EmulatorClock {
  now(): number;
  set(t: number | Date): void;
  advance(ms: number): void;
}

export class Clock implements EmulatorClock {
  private offset = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(initial?: number | Date) {
    if (initial !== undefined) this.set(initial);
  }

  now(): number {
    return Date.now() + this.offset;
  }

  set(t: number | Date): void {
    const ms = t instanceof Date ? t.getTime() : t;
    if (!Number.isFinite(ms)) throw new TypeError(`clock.set: invalid time ${String(t)}`);
    this.offset = ms - Date.now();
    this.changed();
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms)) throw new TypeError(`clock.advance: invalid duration ${String(ms)}`);
    this.offset += ms;
    this.changed();
  }

  /** Called after every set/advance (used to fire time-based lifecycle steps without waiting). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
