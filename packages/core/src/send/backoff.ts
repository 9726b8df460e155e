export interface RetryPolicy {
  /** Calls per batch within one flush, the first included. Default 4. */
  readonly attempts: number;
  /** Default 250 ms. */
  readonly baseDelayMs: number;
  /** Default 20 s. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 20_000 };

/** "Full jitter": a random delay up to the exponential ceiling, so many instances do not retry in step. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
