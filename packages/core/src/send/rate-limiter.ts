/** The sliding window the limit holds in: AWS counts calls per second. */
const WINDOW_MS = 1000;

/**
 * Keeps this instance's calls under a requests-per-second budget in every sliding second, not only in fixed ones:
 * a call is let through only when fewer than `capacity` calls were let through in the closed interval of one
 * window before it. Callers are served one at a time, in the order they called take().
 *
 * A budget of r ≥ 1 lets floor(r) calls into any second; below 1 it lets one call into any 1/r seconds.
 */
export class RateLimiter {
  private readonly capacity: number;
  private readonly windowMs: number;
  /** When the last `capacity` calls were let through, as a ring, oldest at `next` once full. */
  private readonly times: number[] = [];
  private next = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
      throw new RangeError(`requestsPerSecond must be a positive finite number, got ${requestsPerSecond}`);
    }
    this.capacity = requestsPerSecond >= 1 ? Math.floor(requestsPerSecond) : 1;
    this.windowMs = requestsPerSecond >= 1 ? WINDOW_MS : WINDOW_MS / requestsPerSecond;
  }

  /** Resolves when a call may be made now; the call counts from that moment. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.acquire());
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(): Promise<void> {
    for (;;) {
      const now = this.now();
      const oldest = this.times.length < this.capacity ? undefined : this.times[this.next]!;
      // Strictly more than one window after the oldest call: a closed window holds at most `capacity` calls.
      if (oldest === undefined || now - oldest > this.windowMs) {
        this.record(now);
        return;
      }
      await this.sleep(Math.max(1, oldest + this.windowMs - now + 1));
    }
  }

  private record(time: number): void {
    if (this.times.length < this.capacity) {
      this.times.push(time);
      return;
    }
    this.times[this.next] = time;
    this.next = (this.next + 1) % this.capacity;
  }
}
