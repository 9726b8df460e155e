import type { MeterkitError, RequestMeter } from '@meterkit/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Usage recorded for every billed request of a route, through `config: { metering }`. */
export interface RouteMetering {
  /** The dimension's API name, exactly as in the product listing. */
  dimension: string;
  /**
   * Units per request. Default 1. A function is called once the response is sent (status code known);
   * it must return a whole number in 0..2147483647.
   */
  quantity?: number | ((request: FastifyRequest, reply: FastifyReply) => number);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's meter; null when the request is not metered (not identified, unknown or inactive customer). */
    meter: RequestMeter | null;
    /** Why an identified request got no meter (unknown or inactive customer, store down); null otherwise. */
    meteringError: MeterkitError | null;
  }

  interface FastifyContextConfig {
    /** Records usage for every billed request of this route. */
    metering?: RouteMetering;
  }
}
