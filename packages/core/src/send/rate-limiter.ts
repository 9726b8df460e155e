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
 * How much later than its grant a call's time counts, once it is answered at `answeredAt`: a call reaches AWS at
 * the latest when its answer comes back, so counting it from `answeredAt - (windowMs - 1 s)` keeps the next call on
 * its slot more than a second after it arrived, however long the call took. Calls answered within the window's
 * headroom (26 ms at 9.75/s) keep their grant time and the full budget.
 */
export function answeredStamp(budget: SendBudget, grantedAt: number, answeredAt: number): number {
  return Math.max(grantedAt, answeredAt - (budget.windowMs - SECOND_MS));
}

/** How often a wait with a `stop` check looks at it. */
const STOP_CHECK_MS = 250;

/** The next sleep of a wait of `ms`: in slices when a `stop` check must be looked at on the way. */
export function stopSlice(stop: (() => boolean) | undefined, ms: number): number {
  return stop === undefined ? ms : Math.min(ms, STOP_CHECK_MS);
}

/** Thrown by run() when `stop` answered true while the call waited for its slot: the call was not made. */
export class SendStopped extends Error {
  constructor() {
    super('the flush ran out of time while waiting for a send slot');
  }
}

/**
 * Keeps this instance's calls under a requests-per-second budget in every sliding window, not only in fixed ones:
 * a call is let through only when fewer than `capacity` calls were let through in the closed interval of one
 * window before it (see sendBudget()). Callers are served one at a time, in the order they asked. A call made
 * through run() counts from its answer too (answeredStamp()), so no second ever holds more than `capacity`
 * arrivals at AWS, whatever the network delay of calls answered within a window.
 */
export class RateLimiter {
  readonly budget: SendBudget;
  /** When the last `capacity` calls were let through (or answered, see answeredStamp), as a ring, oldest at `next` once full. */
  private readonly times: number[] = [];
  private next = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.budget = sendBudget(requestsPerSecond);
  }

  /** Resolves when a call may be made now; the call counts from that moment. */
  async take(): Promise<void> {
    await this.grant();
  }

  /**
   * Makes `call` once a slot is free; the slot counts until the call is answered (answeredStamp()). Rejects with
   * SendStopped, without calling, when `stop` answers true while waiting.
   */
  async run<T>(call: () => Promise<T>, stop?: () => boolean): Promise<T> {
    const grantedAt = await this.grant(stop);
    try {
      return await call();
    } finally {
      this.answered(grantedAt);
    }
  }

  /** Resolves with the time the slot was granted at, when a call may be made now. */
  grant(stop?: () => boolean): Promise<number> {
    const turn = this.tail.then(() => this.acquire(stop));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** The call granted at `grantedAt` was answered at `answeredAt` (default now): its slot counts from answeredStamp(). */
  answered(grantedAt: number, answeredAt: number = this.now()): void {
    const stamp = answeredStamp(this.budget, grantedAt, answeredAt);
    if (stamp === grantedAt) return;
    const slot = this.times.indexOf(grantedAt);
    if (slot >= 0) this.times[slot] = Math.max(this.times[slot]!, stamp);
  }

  private async acquire(stop: (() => boolean) | undefined): Promise<number> {
    const { capacity, windowMs } = this.budget;
    for (let waited = false; ; waited = true) {
      if (waited && stop?.() === true) throw new SendStopped();
      const now = this.now();
      const oldest = this.times.length < capacity ? undefined : this.times[this.next]!;
      // Strictly more than one window after the oldest call: a closed window holds at most `capacity` calls.
      if (oldest === undefined || now - oldest > windowMs) {
        this.record(now);
        return now;
      }
      await this.sleep(stopSlice(stop, Math.max(1, oldest + windowMs - now + 1)));
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
