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
}

export const BATCH_METER_USAGE_WINDOW: WindowRules = {
  windowMs: AwsLimits.batchWindowMs,
  monthEndCutoffHours: AwsLimits.monthEndCutoffHours,
};

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
 * hours once the month-end cutoff is near (the lock is waived for them so they still make it).
 */
export function dueBefore(now: number, rules: DueRules): number {
  const afterLock = hourOf(now - rules.lockMs);
  const month = monthStart(now);
  const previousMonthDue = now >= month + rules.monthEndCutoffHours * HOUR_MS - rules.monthEndMarginMs;
  return previousMonthDue ? Math.max(afterLock, month) : afterLock;
}
