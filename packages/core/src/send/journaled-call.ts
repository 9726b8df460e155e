import type { UsageStore } from '../store/usage-store';
import type { SendLimiter } from './send-quota';

export interface JournaledCallOptions {
  readonly store: UsageStore;
  readonly owner: string;
  readonly clock: () => number;
  readonly limiter: SendLimiter;
}

/** What one call through the send limiter came to. */
export type JournaledCall<T> =
  /** The store journaled none of the records (their lease ran out while the call waited): nothing was sent. */
  | { readonly kind: 'nothing-journaled' }
  | { readonly kind: 'answered'; readonly journaled: ReadonlySet<string>; readonly output: T }
  /** The call failed: `error` is AWS's answer or the lack of one. */
  | { readonly kind: 'failed'; readonly journaled: ReadonlySet<string>; readonly error: unknown };

/**
 * Waits for a send slot, then journals the records `ids` (fenced by their lease, at the time of the call) and makes
 * `call` with those the store journaled. A record is journaled only when its call goes on the wire: one still waiting
 * for its slot when the process dies was never sent, and the next instance need not take it for one AWS may hold.
 * Rejects with SendStopped when `stop` answers true while waiting (nothing journaled, nothing sent), and with the
 * store's error when the journal fails.
 */
export function journaledCall<T>(
  o: JournaledCallOptions,
  ids: readonly string[],
  call: (journaled: ReadonlySet<string>) => Promise<T>,
  stop?: () => boolean,
): Promise<JournaledCall<T>> {
  return o.limiter.run(async (): Promise<JournaledCall<T>> => {
    const journaled: ReadonlySet<string> = new Set(await o.store.journal(ids, o.owner, o.clock()));
    if (journaled.size === 0) return { kind: 'nothing-journaled' };
    try {
      return { kind: 'answered', journaled, output: await call(journaled) };
    } catch (error) {
      return { kind: 'failed', journaled, error };
    }
  }, stop);
}
