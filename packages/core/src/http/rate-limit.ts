/** A fixed-window counter per key (a client address), bounded in memory. */
export class FixedWindowLimiter {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number = 60_000,
    private readonly maxKeys: number = 50_000,
  ) {}

  /** True when the call is allowed. A limit of 0 allows everything. */
  take(key: string, now: number = Date.now()): boolean {
    if (this.limit <= 0) return true;
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.counts.clear();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    if (count === 1 && this.counts.size >= this.maxKeys) return false;
    this.counts.set(key, count);
    return count <= this.limit;
  }
}
