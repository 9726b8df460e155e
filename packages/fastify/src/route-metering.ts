import { ErrorCodes, MeterkitError, type Metering, type RequestMeter } from '@meterkit/core';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { RouteMetering } from './types';

/**
 * Checks a route's `config.metering` when the route is declared (an `onRoute` hook), so a mistake fails at startup:
 * a bad shape is ERR_METERKIT_OPTIONS, a dimension no configured product has ERR_METERKIT_UNKNOWN_DIMENSION.
 * Thrown from `app.get()` itself, or as the rejection of `app.ready()` for routes declared in a plugin.
 */
export function assertRouteMetering(route: RouteOptions, engine: Metering): void {
  const metering: unknown = (route.config as { metering?: unknown } | undefined)?.metering;
  if (metering === undefined) return;
  const where = `route ${String(route.method)} ${route.url}`;
  if (metering === null || typeof metering !== 'object') throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: config.metering must be { dimension, quantity? }.`);
  const { dimension, quantity } = metering as Partial<RouteMetering>;
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
}

/** Records the route's configured usage on the request's meter. Never throws: the response is already sent. */
export function recordRouteUsage(meter: RequestMeter, request: FastifyRequest, reply: FastifyReply): void {
  const metering = request.routeOptions.config.metering;
  if (metering === undefined) return;
  try {
    const quantity = typeof metering.quantity === 'function' ? metering.quantity(request, reply) : (metering.quantity ?? 1);
    meter.record(metering.dimension, quantity);
  } catch (error) {
    const code = error instanceof MeterkitError ? error.code : undefined;
    request.log.error({ code, dimension: metering.dimension, err: error instanceof Error ? error.message : String(error) }, '@meterkit/fastify: route usage was not recorded');
  }
}
