import type { MeterkitError, RequestMeter, RequireEntitlementOptions } from '@meterkit/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A contract entitlement a route requires: its API name, or `{ dimension, atLeast }`. */
export type RouteEntitlement = string | ({ dimension: string } & RequireEntitlementOptions);

/**
 * What meterkit does on a route, through `config: { metering }`: the usage recorded for every billed request
 * (`dimension`, `quantity`) and/or the contract entitlement a buyer must hold to be served (`entitlement`).
 */
export interface RouteMetering {
  /** The dimension's API name, exactly as in the product listing. Required unless `entitlement` is given. */
  dimension?: string;
  /**
   * Units per request. Default 1. A function is called once the response is sent (status code known);
   * it must return a whole number in 0..2147483647.
   */
  quantity?: number | ((request: FastifyRequest, reply: FastifyReply) => number);
  /**
   * Contract products: only buyers whose contract includes this entitlement (at least `atLeast` of a numeric one)
   * are served; others get 403 ERR_METERKIT_ENTITLEMENT_REQUIRED, checked once the request's meter is bound (the
   * route's own preHandler, after `identify`). Default: no check.
   */
  entitlement?: RouteEntitlement;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's meter; null when the request is not metered (not identified, unknown or inactive customer). */
    meter: RequestMeter | null;
    /** Why an identified request got no meter (unknown or inactive customer, store down); null otherwise. */
    meteringError: MeterkitError | null;
  }

  interface FastifyContextConfig {
    /** Records usage for every billed request of this route, and/or requires a contract entitlement. */
    metering?: RouteMetering;
  }
}
