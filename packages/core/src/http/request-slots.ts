import { channel, subscribe } from 'node:diagnostics_channel';

type Slotted = Record<PropertyKey, unknown>;

// Registered symbols: every realm of the process (a test runner's sandboxes, the CommonJS and ES module builds of
// this package) finds the same keys, and they live on Node's channel object, which all realms share.
const RESERVED = Symbol.for('@meterkit/core.reservedRequestSlots');

function reserveSlots(this: readonly PropertyKey[], message: unknown): void {
  const request = (message as { readonly request: Slotted }).request;
  for (let i = 0; i < this.length; i++) request[this[i]!] = undefined;
}

/**
 * Gives every request a node:http(s) server serves the property `key` (undefined) as the server publishes its start
 * (Node's `http.server.request.start` diagnostics channel), before any framework or app code sees the request. Express
 * sets each request's prototype, so from then on every request has an object shape of its own and a property added
 * to it builds a new hidden class (about 1.5 KB per request); a property reserved here is one binding stores into.
 * One subscriber per process for every key reserved, by any adapter or copy of this package.
 */
export function reserveRequestSlot(key: PropertyKey): void {
  const started = channel('http.server.request.start') as unknown as { [RESERVED]?: PropertyKey[] };
  let keys = started[RESERVED];
  if (keys === undefined) {
    keys = [];
    started[RESERVED] = keys;
    subscribe('http.server.request.start', reserveSlots.bind(keys));
  }
  if (!keys.includes(key)) keys.push(key);
}
