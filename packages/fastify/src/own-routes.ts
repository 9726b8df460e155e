import type { RouteOptions } from 'fastify';

/** The handlers of the routes the plugin serves itself (registration, lifecycle, status page): never metered. */
const OWN = new WeakSet<object>();

/** Marks a handler as one of the plugin's own routes; answers it. */
export function ownRoute<T extends object>(handler: T): T {
  OWN.add(handler);
  return handler;
}

/** Whether a declared route is one of the plugin's own (its HEAD twin included: Fastify gives it the same handler). */
export function isOwnRoute(route: RouteOptions): boolean {
  return OWN.has(route.handler);
}
