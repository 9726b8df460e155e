import { executionAsyncResource } from 'node:async_hooks';

let requested = false;
/** Read by nobody: the tick object is held so that it, and the shapes it has, stay alive. */
const kept: object[] = [];

/** The keys of the literal Node builds a tick object from (its two symbols by their descriptions). */
const TICK_KEYS = new Set(['async_id_symbol', 'trigger_async_id_symbol', 'callback', 'args']);

/**
 * Keeps one of Node's tick objects (what `process.nextTick` queues) alive for the life of the process, so that the
 * shapes V8 built for it stay alive too.
 *
 * nextTick builds each tick object from a literal with computed keys, and V8's caches for those keys hold the shapes
 * they saw weakly. A full garbage collection at a moment no tick is queued frees the shapes; the next nextTick finds
 * its cache cleared, marks it megamorphic for the rest of the process, and from then on builds every tick object
 * through V8's runtime: 2 to 3 µs per request in a Fastify server, which queues several ticks per request
 * (docs/decisions.md). A tick object that never dies keeps the shapes, and the caches stay as they are. Costs one
 * small object; changes nothing where that collection would not have come, and comes too late where it already has.
 */
export function keepTickShapes(): void {
  if (requested) return;
  requested = true;
  process.nextTick(keepCurrentTick);
}

function keepCurrentTick(): void {
  // Inside a nextTick callback the execution's resource is the tick object itself.
  const tick = executionAsyncResource() as Record<string | symbol, unknown>;
  forgetAddedKeys(tick);
  kept.push(tick);
}

/**
 * Async hooks add their own keys to a tick object after Node built it (an AsyncLocalStorage its store): deleted, last
 * first, so that the kept object holds no app's context and keeps the literal's shape (deleting the last key added
 * takes an object back to the shape before it).
 */
function forgetAddedKeys(tick: Record<string | symbol, unknown>): void {
  const added = [...Object.keys(tick), ...Object.getOwnPropertySymbols(tick)].filter((key) => !TICK_KEYS.has(typeof key === 'symbol' ? (key.description ?? '') : key));
  for (let i = added.length - 1; i >= 0; i--) delete tick[added[i]!];
}
