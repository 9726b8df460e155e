import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, MeterkitError } from '../errors';
import type { BackgroundWork } from '../lifecycle/background-work';
import type { Entitlement } from '../product/entitlement';
import type { FlushSequence } from '../send/flush-sequence';
import type { Flusher } from '../send/flusher';
import type { UsageStore } from '../store/usage-store';
import type { Persister } from './persister';

export interface ShutdownParts {
  /** The engine's timers: cleared, and the list emptied. */
  readonly timers: NodeJS.Timeout[];
  readonly entitlements: Entitlement;
  readonly background: BackgroundWork;
  /** The flushes called (flush() and the timer's), from their persist on. */
  readonly flushes: Pick<FlushSequence, 'idle'>;
  readonly flusher: Flusher;
  /** The store, once open. */
  readonly opened: () => Promise<UsageStore>;
  readonly persister: Persister;
  /** Called before rejecting with ERR_METERKIT_NOT_PERSISTED, so that close() can be called again. */
  readonly reopen: () => void;
}

/**
 * Stops the timers, waits for the background work and the flushes under way (a flush() still persisting included),
 * persists everything in memory (three tries) and closes the store. Rejects with ERR_METERKIT_NOT_PERSISTED when usage
 * is still in memory; the store stays open.
 */
export async function shutdown(p: ShutdownParts): Promise<void> {
  for (const timer of p.timers) clearInterval(timer);
  p.timers.length = 0;
  p.entitlements.stop();
  await p.entitlements.idle();
  await p.background.idle();
  await p.flushes.idle();
  await p.flusher.idle();
  const store = await p.opened();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await p.persister.persist();
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      await sleep(100 * (attempt + 1));
    }
  }
  if (lastError !== undefined || p.persister.pending > 0) {
    p.reopen();
    throw new MeterkitError(ErrorCodes.NOT_PERSISTED, `close() could not persist ${p.persister.pending} usage aggregates: they are still in memory. Fix the store and call close() again.`, {
      cause: lastError,
    });
  }
  await store.close();
}
