import { channel, subscribe } from 'node:diagnostics_channel';
import { keepTickShapes } from '../runtime/keep-tick-shapes';

/**
 * What settles the meters an adapter binds: one object per adapter instance (or per route), shared by every request,
 * so that binding a request allocates nothing.
 */
export interface ResponseSettler<C> {
  /**
   * Settles the meter bound with `context` (commits or discards it by the commit policy). Called at most once per
   * binding: with `finished` true once the response finished, after the listeners of its 'finish' event ran; with
   * `finished` false when it closed without finishing, only for a binding made with `settleClosed`. Must not throw: it
   * runs after the response, in a microtask, where an exception is the process's unhandled rejection.
   */
  settle(context: C, finished: boolean): void;
}

/** The part of a response the fallback listens to: Node's ServerResponse, HTTP/2 compat responses, injected ones. */
export interface SettlingResponse {
  on(event: 'finish' | 'close', listener: () => void): unknown;
}

// Registered symbols: two copies of this package in one process (its CommonJS and ES module builds) share the
// subscription and the slots, so that every binding settles exactly once whichever copy made it.
const SETTLER = Symbol.for('@meterkit/core.settler');
const CONTEXT = Symbol.for('@meterkit/core.settleContext');
const SUBSCRIBED = Symbol.for('@meterkit/core.settleSubscribed');

/**
 * A response a node:http(s) server published `http.server.request.start` for holds null in its SETTLER slot until
 * a meter is bound, the settler then; one that was never published for holds nothing (undefined) there.
 */
interface Slots {
  [SETTLER]?: ResponseSettler<unknown> | null;
  [CONTEXT]?: unknown;
}

interface ServerMessage {
  readonly response: Slots;
}

function markPublished(message: unknown): void {
  const response = (message as ServerMessage).response;
  response[SETTLER] = null;
  // Both slots are made here, on the fresh response, so that binding writes existing properties: a property added
  // later, to a response a framework has re-prototyped (Express), cost about 1.5 KB per request.
  response[CONTEXT] = undefined;
}

// Finished responses waiting to be settled, in the order they finished: settler i settles context i.
const queuedSettlers: Array<ResponseSettler<unknown>> = [];
const queuedContexts: unknown[] = [];
let nextQueued = 0;
const RESOLVED = Promise.resolve();

/**
 * Settles `context` in a microtask: after the listeners of the 'finish' being emitted and the ticks they queue.
 * Finishes queued before that microtask runs share it. A microtask rather than a tick per response: in some processes
 * Node's process.nextTick builds its tick object through V8's runtime (docs/decisions.md), a promise reaction does not.
 */
function settleSoon(settler: ResponseSettler<unknown>, context: unknown): void {
  queuedContexts.push(context);
  if (queuedSettlers.push(settler) === 1) void RESOLVED.then(settleQueued);
}

function settleQueued(): void {
  try {
    while (nextQueued < queuedSettlers.length) {
      const i = nextQueued++;
      queuedSettlers[i]!.settle(queuedContexts[i], true);
    }
  } finally {
    if (nextQueued < queuedSettlers.length) {
      // A settler threw (its error is this microtask's rejection): the ones after it settle in the next one.
      void RESOLVED.then(settleQueued);
    } else {
      queuedSettlers.length = 0;
      queuedContexts.length = 0;
      nextQueued = 0;
    }
  }
}

function settleFinished(message: unknown): void {
  const response = (message as ServerMessage).response;
  const settler = response[SETTLER];
  if (settler === null || settler === undefined) return;
  response[SETTLER] = null;
  // Node publishes before the response's 'finish' listeners run: settling once they ran lets usage they record (and
  // a framework's hooks run from them) be billed, as a listener settling on 'close' did.
  settleSoon(settler, response[CONTEXT]);
}

/** A published response that closed before its finish was published: aborted. */
function settleClosedSlot(this: Slots): void {
  const settler = this[SETTLER];
  if (settler === null || settler === undefined) return;
  this[SETTLER] = null;
  settler.settle(this[CONTEXT], false);
}

/**
 * Subscribes this process, once, to the `http.server.request.start` and `http.server.response.finish` diagnostics
 * channels Node publishes for every request a node:http or node:https server serves, so that meters bound on those
 * requests settle without a listener or hook per request. Adapters call it when they are created; later calls (from
 * any instance, adapter or copy of this package) do nothing. Requests already under way when it is first called are
 * settled by their own listeners.
 */
export function watchServerResponses(): void {
  keepTickShapes();
  // The flag lives on Node's channel object, which every realm of the process shares (a test runner's sandboxes, two
  // copies of this package), so the process subscribes once.
  const finished = channel('http.server.response.finish') as unknown as Record<symbol, unknown>;
  if (finished[SUBSCRIBED] === true) return;
  finished[SUBSCRIBED] = true;
  subscribe('http.server.request.start', markPublished);
  subscribe('http.server.response.finish', settleFinished);
}

/**
 * Settles `context` through `settler` once `response` is done. A response a node:http(s) server publishes for (see
 * watchServerResponses) is settled from the process-wide subscriber when it finishes; any other (Fastify's inject,
 * HTTP/2 compat, a serverless wrapper's response) and a second binding of the same response get listeners of their
 * own. A response that closes without finishing is settled only with `settleClosed` (a `close` listener, shared by
 * every published request): otherwise its meter is never committed, which is how an aborted request is discarded.
 */
export function settleOnFinish<C>(response: SettlingResponse, settler: ResponseSettler<C>, context: C, settleClosed: boolean): void {
  const slots = response as Slots;
  if (slots[SETTLER] !== null) return settleByListeners(response, settler, context, settleClosed);
  slots[SETTLER] = settler as ResponseSettler<unknown>;
  slots[CONTEXT] = context;
  if (settleClosed) response.on('close', settleClosedSlot);
}

function settleByListeners<C>(response: SettlingResponse, settler: ResponseSettler<C>, context: C, settleClosed: boolean): void {
  // Whichever comes first decides: 'finish' (settled once its listeners ran, as a published finish is) or 'close'.
  let decided = false;
  response.on('finish', () => {
    if (decided) return;
    decided = true;
    settleSoon(settler as ResponseSettler<unknown>, context);
  });
  if (!settleClosed) return;
  response.on('close', () => {
    if (decided) return;
    decided = true;
    settler.settle(context, false);
  });
}
