/** Calls per second on the emulated clock: a sliding one-second window of the calls let through. */
export class RateLimiter {
  private times: number[] = [];

  /** True when one more call fits under `perSecond` at `now` (and counts it); false when it is to be throttled. */
  take(now: number, perSecond: number): boolean {
    // A clock set back forgets calls "in the future" rather than throttling until it catches up.
    this.times = this.times.filter((t) => t > now - 1000 && t <= now);
    if (this.times.length >= perSecond) return false;
    this.times.push(now);
    return true;
  }

  reset(): void {
    this.times = [];
  }
}
