import { checkRouteEntitlement, ErrorCodes, MeterkitError, resolveEntitlementRequirement, type EntitlementRequirement, type Metering, type RequestMeter } from '@meterkit/core';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler, RouteOptions } from 'fastify';
import type { RouteEntitlement, RouteMetering } from './types';

/** The route's own preHandler answering the core's 403 (or 503) unless the request's buyer holds `requirement`. */
function entitlementCheck(requirement: EntitlementRequirement): preHandlerHookHandler {
  return function meterkitRequireEntitlement(request, reply, done) {
    const result = checkRouteEntitlement(request.meter, request.meteringError, requirement);
    if (result.ok) return done();
    reply.code(result.status).headers(result.headers).send(result.body);
  };
}

function requirementOf(entitlement: RouteEntitlement, engine: Metering, where: string): EntitlementRequirement {
  if (typeof entitlement === 'string') return resolveEntitlementRequirement(engine, entitlement, undefined, where);
  if (entitlement === null || typeof entitlement !== 'object') {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: config.metering.entitlement must be a contract dimension's API name or { dimension, atLeast? }.`);
  }
  const { dimension, ...options } = entitlement;
  return resolveEntitlementRequirement(engine, dimension, options, where);
}

/** What a route records for every billed request: its `config.metering` dimension and quantity, read once. */
export interface RouteUsage {
  readonly dimension: string;
  readonly quantity: RouteMetering['quantity'];
}

/**
 * Checks a route's `config.metering` when the route is declared (an `onRoute` hook), so a mistake fails at startup:
 * a bad shape is ERR_METERKIT_OPTIONS, a dimension no configured product has (or an entitlement no contract product
 * lists) ERR_METERKIT_UNKNOWN_DIMENSION. Thrown from `app.get()` itself, or as the rejection of `app.ready()` for
 * routes declared in a plugin. A route requiring an entitlement gets its check as its last preHandler. Answers the
 * usage the route records, if any, for its own onResponse hook: requests never read the route's options.
 */
export function routeUsage(route: RouteOptions, engine: Metering): RouteUsage | undefined {
  const metering: unknown = (route.config as { metering?: unknown } | undefined)?.metering;
  if (metering === undefined) return undefined;
  const where = `route ${String(route.method)} ${route.url}`;
  if (metering === null || typeof metering !== 'object') throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: config.metering must be { dimension?, quantity?, entitlement? }.`);
  const { dimension, quantity, entitlement } = metering as Partial<RouteMetering>;
  if (entitlement !== undefined) {
    const check = entitlementCheck(requirementOf(entitlement, engine, where));
    const own = route.preHandler;
    route.preHandler = own === undefined ? [check] : [...(Array.isArray(own) ? own : [own]), check];
    if (dimension === undefined && quantity === undefined) return undefined;
  }
  if (typeof dimension !== 'string' || dimension.length === 0) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: config.metering.dimension must be the dimension's API name.`);
  }
  if (quantity !== undefined && typeof quantity !== 'function' && !(Number.isInteger(quantity) && quantity >= 0)) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: config.metering.quantity must be a whole number of at least 0 or a function.`);
  }
  if (!engine.hasDimension(dimension)) {
    throw new MeterkitError(
      ErrorCodes.UNKNOWN_DIMENSION,
      `${where}: config.metering.dimension ${JSON.stringify(dimension)} is not a dimension of any configured product; name one of the listing's dimension API names (case-sensitive).`,
    );
  }
  return { dimension, quantity };
}

/** Records the route's configured usage on the request's meter. Never throws: the response is already sent. */
export function recordRouteUsage(meter: RequestMeter, usage: RouteUsage, request: FastifyRequest, reply: FastifyReply): void {
  try {
    const quantity = typeof usage.quantity === 'function' ? usage.quantity(request, reply) : (usage.quantity ?? 1);
    meter.record(usage.dimension, quantity);
  } catch (error) {
    const code = error instanceof MeterkitError ? error.code : undefined;
    request.log.error({ code, dimension: usage.dimension, err: error instanceof Error ? error.message : String(error) }, '@meterkit/fastify: route usage was not recorded');
  }
}
