import { IncomingMessage } from 'node:http';
import { reserveRequestSlot, type MeterkitError, type RequestMeter } from '@meterkit/core';

/** A request's meter (null: not metered) and, when an identified request has none, why. */
export interface Binding {
  readonly meter: RequestMeter | null;
  readonly error?: MeterkitError;
}

// The request's one slot, on Node's request whatever the platform: its binding, or the promise of it while its
// customer is resolved. Express sets each request's prototype, so every request has an object shape of its own and a
// property added to one builds a new hidden class (microseconds); prepareBindingSlots() adds the slot before Express
// sees the request, while requests still share their shape, so that binding stores into a property the request has.
// (Not a WeakMap: entries keyed by short-lived requests outlive the young-generation collections and slowed the
// process down.) Symbol.for: the CommonJS and ESM builds share the slot.
const BINDING = Symbol.for('meterkit:request-binding');
type Bound = { [BINDING]?: Binding | Promise<Binding> };

/**
 * Has every request a node:http(s) server serves get the binding slot as the server publishes its start, before any
 * app code sees it (the core's reserveRequestSlot()).
 */
export function prepareBindingSlots(): void {
  reserveRequestSlot(BINDING);
}

/** Node's request under the platform's: Express `req` is one (whatever an app put on it), a `FastifyRequest` holds it as `raw`. */
function nodeRequest(request: object): Bound {
  if (request instanceof IncomingMessage) return request as Bound;
  const raw = (request as { raw?: unknown }).raw;
  return (typeof raw === 'object' && raw !== null ? raw : request) as Bound;
}

export function bindingOf(request: object): Binding | Promise<Binding> | undefined {
  return nodeRequest(request)[BINDING];
}

export function setBinding(request: object, binding: Binding | Promise<Binding>): void {
  nodeRequest(request)[BINDING] = binding;
}

/** The meter the module attached to this request (Express `req` or `FastifyRequest`), or null when it is not metered. */
export function meterOf(request: object): RequestMeter | null {
  // While the customer is resolved the slot holds a promise, which has no `meter`.
  return (bindingOf(request) as Partial<Binding> | undefined)?.meter ?? null;
}
