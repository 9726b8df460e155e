import { compareKeys } from './frozen-usage';
import { MinHeap } from './min-heap';

/** A record the queue holds: its order (hour, then id) and the ticket that voids its older places in the queue. */
export interface Queueable {
  readonly record: { readonly hour: number; readonly id: string };
  /** Raised each time the record enters or leaves the queue: a place holding an older ticket is void. */
  queueTicket: number;
}

interface Place<T> {
  readonly entry: T;
  readonly ticket: number;
  /** When the record may be claimed: its next attempt, or the end of its lease. */
  readonly dueAt: number;
}

/**
 * The records a claim may take, so that a claim of k records costs O(k log n) instead of a pass over all n:
 * those already due ordered by (hour, id), the others by when they fall due, moved to the first heap by the first
 * claim after that. Removing a record only raises its ticket; the heaps drop its void places as they meet them.
 */
export class ClaimQueue<T extends Queueable> {
  private readonly due = new MinHeap<Place<T>>(
    (a, b) => a.entry.record.hour - b.entry.record.hour || compareKeys(a.entry.record.id, b.entry.record.id),
  );
  private readonly later = new MinHeap<Place<T>>((a, b) => a.dueAt - b.dueAt);

  /** Queues the record, claimable from `dueAt` (already at `now` when given), in place of any earlier place. */
  add(entry: T, dueAt: number, now?: number): void {
    const place = { entry, ticket: ++entry.queueTicket, dueAt };
    if (now !== undefined && dueAt <= now) this.due.push(place);
    else this.later.push(place);
  }

  /** Takes the record out of the queue (it was leased or settled). */
  remove(entry: T): void {
    entry.queueTicket++;
  }

  /** Takes out and answers the first `limit` records claimable at `now`, by hour then id. */
  take(now: number, limit: number): T[] {
    for (let next = this.later.peek(); next !== undefined && next.dueAt <= now; next = this.later.peek()) {
      this.later.pop();
      if (next.ticket === next.entry.queueTicket) this.due.push(next);
    }
    const taken: T[] = [];
    // Due for an earlier claim's clock, not for this one's.
    const notYet: Array<Place<T>> = [];
    while (taken.length < limit) {
      const place = this.due.pop();
      if (place === undefined) break;
      if (place.ticket !== place.entry.queueTicket) continue;
      if (place.dueAt > now) {
        notYet.push(place);
        continue;
      }
      place.entry.queueTicket++;
      taken.push(place.entry);
    }
    for (const place of notYet) this.later.push(place);
    return taken;
  }
}
