/** AWS counts calls per second. */
const SECOND_MS = 1000;

/**
 * How a requests-per-second budget r is held: `capacity` calls in any closed window of `windowMs`.
 * For r ≥ 1 that is ceil(r) calls per ceil(r)/r seconds (9.75/s: 10 calls per 1026 ms), so no closed second holds
 * more than ceil(r) calls and a long run averages r per second; below 1, one call per 1/r seconds.
 */
export interface SendBudget {
  readonly capacity: number;
  readonly windowMs: number;
}

export function sendBudget(requestsPerSecond: number): SendBudget {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new RangeError(`requestsPerSecond must be a positive finite number, got ${requestsPerSecond}`);
  }
  const capacity = Math.max(1, Math.ceil(requestsPerSecond));
  return { capacity, windowMs: Math.ceil((capacity * SECOND_MS) / requestsPerSecond) };
}

/**
 * Keeps this instance's calls under a requests-per-second budget in every sliding window, not only in fixed ones:
 * a call is let through only when fewer than `capacity` calls were let through in the closed interval of one
 * window before it (see sendBudget()). Callers are served one at a time, in the order they called take().
 */
export class RateLimiter {
  readonly budget: SendBudget;
  /** When the last `capacity` calls were let through, as a ring, oldest at `next` once full. */
  private readonly times: number[] = [];
  private next = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.budget = sendBudget(requestsPerSecond);
  }

  /** Resolves when a call may be made now; the call counts from that moment. */
  take(): Promise<void> {
    const turn = this.tail.then(() => this.acquire());
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(): Promise<void> {
    const { capacity, windowMs } = this.budget;
    for (;;) {
      const now = this.now();
      const oldest = this.times.length < capacity ? undefined : this.times[this.next]!;
      // Strictly more than one window after the oldest call: a closed window holds at most `capacity` calls.
      if (oldest === undefined || now - oldest > windowMs) {
        this.record(now);
        return;
      }
      await this.sleep(Math.max(1, oldest + windowMs - now + 1));
    }
  }

  private record(time: number): void {
    if (this.times.length < this.budget.capacity) {
      this.times.push(time);
      return;
    }
    this.times[this.next] = time;
    this.next = (this.next + 1) % this.budget.capacity;
  }
}
