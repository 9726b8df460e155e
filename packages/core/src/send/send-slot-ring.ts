import { ErrorCodes, MeterkitError } from '../errors';

/**
 * The decision UsageStore.takeSendSlot() makes over the stored ring of the last grant times of one scope.
 * `ring` holds at most `capacity` times in any order. Granted: the ring to store (`now` in place of the oldest,
 * times from a clock set back left out). Refused: how long to wait before asking again.
 *
 * The ring always holds the `capacity` latest grants, and a grant needs the oldest of them more than `windowMs`
 * before `now`: so no closed window of `windowMs` holds more than `capacity` grants, in whatever order the
 * callers' times arrive, as long as no time is more than SET_BACK_MS ahead of a later caller's.
 */
/** How far ahead of the caller's time a stored grant time must be to count as from a clock set back. */
export const SET_BACK_MS = 60_000;

export type SendSlotDecision = { readonly granted: true; readonly ring: number[] } | { readonly granted: false; readonly waitMs: number };

export function nextSendSlot(ring: readonly number[], now: number, capacity: number, windowMs: number): SendSlotDecision {
  // A time far ahead is from a clock set back since (or one far off the others'): it is dropped, or sending would
  // stall until the clock caught up with it. Times a little ahead are other callers' (or this caller's time was
  // read before a slow store answered): they count.
  const horizon = Math.max(SET_BACK_MS, windowMs);
  let kept = ring.filter((t) => t - now <= horizon);
  // A smaller capacity than the ring was kept for keeps only the newest times.
  if (kept.length > capacity) kept = kept.sort((a, b) => a - b).slice(kept.length - capacity);
  if (kept.length < capacity) return { granted: true, ring: [...kept, now] };
  // One pass for the oldest: the ring can hold thousands of times at the rates emulators allow.
  let oldestAt = 0;
  for (let i = 1; i < kept.length; i++) if (kept[i]! < kept[oldestAt]!) oldestAt = i;
  const oldest = kept[oldestAt]!;
  // Strictly more than one window after the oldest grant: a closed window holds at most `capacity` grants.
  if (now - oldest > windowMs) {
    kept[oldestAt] = now;
    return { granted: true, ring: kept };
  }
  return { granted: false, waitMs: Math.max(1, oldest + windowMs - now + 1) };
}

/** Checks takeSendSlot()'s arguments the same way in every store: ERR_METERKIT_STORE when one is out of range. */
export function assertSendSlotRequest(scope: string, now: number, capacity: number, windowMs: number): void {
  const bad = (what: string, value: unknown): never => {
    throw new MeterkitError(ErrorCodes.STORE, `A send slot cannot be taken: ${what}, got ${String(value)}`);
  };
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > 200) bad('scope must be a string of 1 to 200 characters', scope);
  if (!Number.isSafeInteger(now) || now < 0) bad('now must be a time in ms since the epoch', now);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000) bad('capacity must be an integer from 1 to 10000', capacity);
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) bad('windowMs must be a positive integer', windowMs);
}

/**
 * The decision UsageStore.extendSendSlot() makes: the grant made at `grantedAt` counts until `until` instead.
 * Answers the ring to store, or undefined when nothing changes (no such grant left in the ring, or `until` is not
 * later).
 */
export function extendSendSlotRing(ring: readonly number[], grantedAt: number, until: number): number[] | undefined {
  const slot = ring.indexOf(grantedAt);
  if (slot < 0 || until <= grantedAt) return undefined;
  const next = [...ring];
  next[slot] = until;
  return next;
}

/** Checks extendSendSlot()'s arguments the same way in every store. */
export function assertExtendSendSlotRequest(scope: string, grantedAt: number, until: number): void {
  assertSendSlotRequest(scope, grantedAt, 1, 1);
  if (!Number.isSafeInteger(until) || until < 0) {
    throw new MeterkitError(ErrorCodes.STORE, `A send slot cannot be extended: until must be a time in ms since the epoch, got ${String(until)}`);
  }
}
