/** Timestamp windows of MeterUsage and BatchMeterUsage (reference §4). */
export interface WindowOptions {
  /** BatchMeterUsage past window; default 24 h (set 6 h or 1 h to play older, stricter variants). */
  batchMeterUsageMs: number;
  /** MeterUsage past window; default 6 h. */
  meterUsageMs: number;
  /** Previous-month records are refused from this hour (UTC) on the 1st; default 6. */
  monthEndCutoffHours: number;
  /** How far in the future a timestamp may be (clock skew tolerance); default 5 min. */
  futureSkewMs: number;
}

export const HOUR_MS = 3_600_000;

export const DEFAULT_WINDOWS: WindowOptions = {
  batchMeterUsageMs: 24 * HOUR_MS,
  meterUsageMs: 6 * HOUR_MS,
  monthEndCutoffHours: 6,
  futureSkewMs: 5 * 60_000,
};

export function hourStart(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

/** 06:00 UTC (or the configured hour) on the 1st of the month after `t`. */
export function monthEndCutoff(t: number, cutoffHours: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) + cutoffHours * HOUR_MS;
}

/** BatchMeterUsage: accepted while now < min(t + window, cutoff of the next 1st) and t <= now + skew. */
export function batchDeadline(t: number, w: WindowOptions): number {
  return Math.min(t + w.batchMeterUsageMs, monthEndCutoff(t, w.monthEndCutoffHours));
}

export function checkBatchTimestamp(t: number, now: number, w: WindowOptions): string | undefined {
  if (t > now + w.futureSkewMs) return 'in the future';
  if (now >= batchDeadline(t, w)) return 'too old';
  return undefined;
}

export function checkMeterUsageTimestamp(t: number, now: number, w: WindowOptions): string | undefined {
  if (t > now + w.futureSkewMs) return 'in the future';
  if (now >= t + w.meterUsageMs) return 'too old';
  return undefined;
}
