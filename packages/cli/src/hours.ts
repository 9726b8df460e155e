import { hourOf } from '@meterkit/core';
import { UsageError } from './io';

/** An hour as the user types it: ISO 8601 (`2026-07-15T10:00Z`, `2026-07-15T10`) or ms epoch; rounded down to its hour. */
export function parseHour(value: string, flag: string): number {
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) : Date.parse(/T\d{2}$/.test(trimmed) ? `${trimmed}:00Z` : trimmed);
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} must be an ISO 8601 time or ms since the epoch, got ${JSON.stringify(value)}.`);
  return hourOf(ms);
}

export interface HourRange {
  readonly hourFrom?: number;
  /** Exclusive. */
  readonly hourTo?: number;
}

/** --from is inclusive, --to exclusive (both rounded down to their hour). */
export function hourRange(options: { from?: string; to?: string }): HourRange {
  const hourFrom = options.from === undefined ? undefined : parseHour(options.from, '--from');
  const hourTo = options.to === undefined ? undefined : parseHour(options.to, '--to');
  if (hourFrom !== undefined && hourTo !== undefined && hourTo <= hourFrom) throw new UsageError('--to must be after --from.');
  return { ...(hourFrom === undefined ? {} : { hourFrom }), ...(hourTo === undefined ? {} : { hourTo }) };
}

export function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}

/** `3h 12m`, `45m`, `-2h 5m`. */
export function duration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${sign}${hours}h ${minutes % 60}m` : `${sign}${minutes}m`;
}
