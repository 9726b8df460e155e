import { channel, subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

type Slotted = IncomingMessage & { meter?: unknown };

const PREPARED = Symbol.for('@meterkit/express.requestSlotsPrepared');

function prepareSlot(message: unknown): void {
  (message as { readonly request: Slotted }).request.meter = undefined;
}

/**
 * Gives every request a node:http(s) server serves its `meter` property (undefined) as the server publishes its start
 * (Node's `http.server.request.start` diagnostics channel), before Express sets the request's prototype: from then on
 * each request has an object shape of its own, and a property added to it builds a new hidden class (about 1.5 KB
 * per request). Binding then stores into a property the request has. Once per process: the flag lives on Node's
 * channel object, which every realm shares (a test runner's sandboxes, the CommonJS and ESM builds).
 */
export function prepareRequestSlots(): void {
  const started = channel('http.server.request.start') as unknown as Record<symbol, unknown>;
  if (started[PREPARED] === true) return;
  started[PREPARED] = true;
  subscribe('http.server.request.start', prepareSlot);
}
