import { AwsLimits, HOUR_MS } from './limits';

/** Start of the UTC hour containing `ms`. */
export function hourOf(ms: number): number {
  return ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/** 00:00 UTC on the 1st of the month after the one containing `ms`. */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** 00:00 UTC on the 1st of the month containing `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export interface WindowRules {
  /** How long after its timestamp a record is accepted. BatchMeterUsage: 24 h. */
  readonly windowMs: number;
  /** Previous-month records are accepted only until this many hours into the 1st (UTC). */
  readonly monthEndCutoffHours: number;
  /**
   * Time for retries an hour keeps at the longest lock: the lock ends at the latest this long before the hour's
   * deadline (see maxLockMs). BatchMeterUsage: 3 h (docs/decisions.md).
   */
  readonly retryHeadroomMs: number;
}

export const BATCH_METER_USAGE_WINDOW: WindowRules = {
  windowMs: AwsLimits.batchWindowMs,
  monthEndCutoffHours: AwsLimits.monthEndCutoffHours,
  retryHeadroomMs: 3 * HOUR_MS,
};

/** The longest lock a window allows: the hour closes (1 h), the lock runs, and retryHeadroomMs is left. */
export function maxLockMs(window: WindowRules): number {
  return window.windowMs - HOUR_MS - window.retryHeadroomMs;
}

/** The last moment AWS accepts a record stamped `timestamp`: min(t + window, cutoff on the next 1st). */
export function submissionDeadline(timestamp: number, rules: WindowRules = BATCH_METER_USAGE_WINDOW): number {
  return Math.min(timestamp + rules.windowMs, nextMonthStart(timestamp) + rules.monthEndCutoffHours * HOUR_MS);
}

export interface DueRules extends WindowRules {
  /** How long a closed hour waits for late usage. */
  readonly lockMs: number;
  /** Previous-month hours are sent this long before the month-end cutoff at the latest. */
  readonly monthEndMarginMs: number;
}

/**
 * Hours starting before the returned instant are due: closed and past their lock period, or previous-month
 * hours once the month-end cutoff is near (the lock is waived for them so they still make it). The lock never
 * runs past the window's maxLockMs, so a due hour always keeps the window's retry headroom.
 */
export function dueBefore(now: number, rules: DueRules): number {
  const afterLock = hourOf(now - Math.min(rules.lockMs, maxLockMs(rules)));
  const month = monthStart(now);
  const previousMonthDue = now >= month + rules.monthEndCutoffHours * HOUR_MS - rules.monthEndMarginMs;
  return previousMonthDue ? Math.max(afterLock, month) : afterLock;
}

/**
 * Due under the window of every identity mode in use: an hour is due as soon as one mode's window makes it due
 * (option validation keeps the lock within the tightest window, so the modes agree).
 */
export function dueBeforeAny(now: number, rules: DueRules, windows: readonly WindowRules[]): number {
  return Math.max(...windows.map((window) => dueBefore(now, { ...rules, ...window })));
}
