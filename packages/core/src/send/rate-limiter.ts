/** Spaces calls evenly so this instance stays under a requests-per-second budget. */
export class RateLimiter {
  private nextSlot = 0;
  private readonly spacingMs: number;

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.spacingMs = 1000 / requestsPerSecond;
  }

  async take(): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.spacingMs;
    if (slot > now) await this.sleep(slot - now);
  }
}
