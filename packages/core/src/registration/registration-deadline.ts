import { ErrorCodes, MeterkitError } from '../errors';

/** How long one registration may take, AWS calls and retries included (docs/decisions.md). */
export const DEFAULT_REGISTRATION_TIMEOUT_MS = 25_000;
const MAX_REGISTRATION_TIMEOUT_MS = 600_000;

/**
 * Validates `registrationTimeoutMs` (an integer of 1 to 600 000 ms, at least `aws.callTimeoutMs` so that the first
 * ResolveCustomer call gets its whole bound) and fills in its default. Throws ERR_METERKIT_OPTIONS.
 */
export function resolveRegistrationTimeoutMs(value: unknown, callTimeoutMs: number): number {
  const timeoutMs = value === undefined ? DEFAULT_REGISTRATION_TIMEOUT_MS : value;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_REGISTRATION_TIMEOUT_MS) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `registrationTimeoutMs must be an integer between 1 and ${MAX_REGISTRATION_TIMEOUT_MS}, got ${String(value)}.`);
  }
  if (timeoutMs < callTimeoutMs) {
    throw new MeterkitError(
      ErrorCodes.OPTIONS,
      `registrationTimeoutMs (${timeoutMs}${value === undefined ? ', the default' : ''}) must be at least aws.callTimeoutMs (${callTimeoutMs}): ` +
        'a registration makes at least one AWS call. Raise registrationTimeoutMs or lower aws.callTimeoutMs.',
    );
  }
  return timeoutMs;
}

/** What the AWS calls of one registration ask of its deadline (ResolveCustomer's retries, GetEntitlements' pages). */
export interface CallDeadline {
  /** Aborted when the deadline passes: an AWS call still waiting then is cut off. */
  readonly signal: AbortSignal;
  /** Whether an attempt started after waiting `delayMs` keeps its whole `aws.callTimeoutMs` before the deadline. */
  leavesRoomFor(delayMs: number): boolean;
  /** The option and its value, for error messages. */
  describe(): string;
}

/**
 * One registration's deadline, on the process's monotonic clock: like `aws.callTimeoutMs` it bounds real waiting (the
 * engine's `clock` dates usage and may stand still in tests). Once it passes, `signal` aborts and `race` rejects with
 * ERR_METERKIT_REGISTRATION_FAILED; the work raced stops at its next `check()`.
 */
export class RegistrationDeadline implements CallDeadline {
  private readonly controller = new AbortController();
  private readonly endsAt: number;
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly expired: Promise<never>;

  constructor(
    readonly timeoutMs: number,
    private readonly callTimeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.endsAt = now() + timeoutMs;
    this.expired = new Promise<never>((_, reject) => {
      this.controller.signal.addEventListener('abort', () => reject(this.error()), { once: true });
    });
    this.expired.catch(() => undefined);
    this.timer = setTimeout(() => this.controller.abort(), timeoutMs);
    this.timer.unref?.();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  passed(): boolean {
    return this.controller.signal.aborted || this.now() >= this.endsAt;
  }

  leavesRoomFor(delayMs: number): boolean {
    return !this.controller.signal.aborted && this.endsAt - this.now() - delayMs >= this.callTimeoutMs;
  }

  describe(): string {
    return `registrationTimeoutMs (${this.timeoutMs} ms)`;
  }

  /** Throws the deadline's error once it has passed: work that answers late changes nothing after this. */
  check(): void {
    if (this.passed()) throw this.error();
  }

  /** `work`'s outcome, or the deadline's error once it passes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.expired]);
  }

  /** Stops the timer (the registration answered). */
  end(): void {
    clearTimeout(this.timer);
  }

  error(): MeterkitError {
    return new MeterkitError(
      ErrorCodes.REGISTRATION_FAILED,
      `The registration did not finish within ${this.describe()}: AWS or the store did not answer in time. The buyer can try the same link again in a few minutes.`,
      { details: { registrationTimeoutMs: this.timeoutMs } },
    );
  }
}
