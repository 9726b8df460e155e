import { ErrorCodes, MeterkitError } from '../errors';

/**
 * How far into the future (by this host's clock) a lifecycle event or SNS message may be dated, by default (the
 * `eventClockSkewMs` option). AWS documents no tolerance; this allows ordinary clock skew between AWS and the host.
 * An event dated further ahead would make every later genuine event of its customer look older than the state, so
 * it is refused (docs/decisions.md).
 */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Refuses an event time (ms epoch) more than `maxSkewMs` after `now`, with ERR_METERKIT_LIFECYCLE_FUTURE. */
export function assertNotFuture(time: number, now: number, maxSkewMs: number): void {
  if (time > now + maxSkewMs) {
    throw new MeterkitError(
      ErrorCodes.LIFECYCLE_FUTURE,
      `The event is dated ${new Date(time).toISOString()}, more than ${maxSkewMs / 1000} s after this host's clock; it was refused. Check the host's clock.`,
      { details: { eventTime: time, now } },
    );
  }
}

/**
 * The SNS rule: a message older than `maxAgeMs` is refused as a replay (ERR_METERKIT_LIFECYCLE_STALE), one dated
 * more than `maxSkewMs` ahead as any lifecycle event is (ERR_METERKIT_LIFECYCLE_FUTURE).
 */
export function assertSnsTime(time: number, now: number, maxAgeMs: number, maxSkewMs: number): void {
  if (Number.isNaN(time) || now - time > maxAgeMs) {
    throw new MeterkitError(ErrorCodes.LIFECYCLE_STALE, 'The SNS message is too old and was refused as a replay.');
  }
  assertNotFuture(time, now, maxSkewMs);
}
