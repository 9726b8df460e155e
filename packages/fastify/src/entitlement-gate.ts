import { entitlementGate, ErrorCodes, isMeterkitError, type Metering } from '@meterkit/core';
import type { FastifyInstance } from 'fastify';

/**
 * Answers every request with the core's 503 (pending or refused) until RegisterUsage verified the entitlement,
 * in an `onRequest` hook; requests of the routes named in `exempt` (meterkit's own) pass. A callback hook that
 * asks the gate first: once entitled, a request costs no promise and no read of its route's options.
 */
export function addEntitlementGate(fastify: FastifyInstance, metering: Metering, exempt: ReadonlySet<string>): void {
  const gate = entitlementGate(metering);
  fastify.addHook('onRequest', (request, reply, done) => {
    const result = gate.check();
    if (result.ok) return done();
    const url = request.routeOptions.url;
    if (url !== undefined && exempt.has(url)) return done();
    // Answered here: the hook chain stops without done().
    reply.code(result.status).headers(result.headers).send(result.body);
  });
}

/**
 * Starts RegisterUsage on `onReady` without waiting for it. A refusal is kept in `metering.entitlement()` and
 * emitted by the core as an `error` event; only a missing `entitlement` option is logged here.
 */
export function registerOnReady(fastify: FastifyInstance, metering: Metering): void {
  fastify.addHook('onReady', async () => {
    metering.registerUsage().catch((error: unknown) => {
      if (isMeterkitError(error, ErrorCodes.OPTIONS)) fastify.log.error({ code: error.code }, `@meterkit/fastify: entitlementGate.register: ${error.message}`);
    });
  });
}
