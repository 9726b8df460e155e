import { ErrorCodes, LifecycleReceiver, type LifecycleResult, type LifecycleRouteOptions, type Metering } from '@meterkit/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ownRoute } from './own-routes';

function send(reply: FastifyReply, result: LifecycleResult): FastifyReply {
  return reply.code(result.status).header('cache-control', 'no-store').send(result.body);
}

/** Fastify's body errors are the sender's: 413 past the cap, 400 for anything else unreadable. */
function bodyError(error: FastifyError, limit: number): LifecycleResult {
  const status = error.statusCode === 413 ? 413 : 400;
  const message = status === 413 ? `Deliveries are limited to ${limit} bytes.` : 'The delivery could not be read.';
  return { status, body: { error: { code: ErrorCodes.LIFECYCLE_MALFORMED, message } } };
}

/**
 * Registers the lifecycle route in its own encapsulated context, whose only content-type parser hands any body
 * (EventBridge's JSON, SNS's text/plain) over raw, capped at `maxBodyBytes`: the app's parsers are untouched.
 * The core's LifecycleReceiver checks the secret or SNS signature and applies the event.
 */
export function registerLifecycleRoute(fastify: FastifyInstance, metering: Metering, options: LifecycleRouteOptions): void {
  const receiver = new LifecycleReceiver(metering, options);
  const bodyLimit = receiver.bodyLimit;
  fastify.register(async function meterkitLifecycle(child) {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
      // Fastify does not decode a content encoding: a body declared compressed cannot be read as sent.
      const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== '') return done(Object.assign(new Error(`Content encoding ${encoding} is not accepted.`), { statusCode: 400 }), undefined);
      done(null, body);
    });
    child.setErrorHandler((error: FastifyError, _request, reply) => send(reply, bodyError(error, bodyLimit)));
    child.post(options.path, { bodyLimit }, ownRoute(async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await receiver.handle({ headers: request.headers, body: request.body ?? Buffer.alloc(0) });
      if ('error' in result.body) {
        const level = result.status >= 500 ? 'error' : 'info';
        request.log[level]({ status: result.status, code: result.body.error.code }, '@meterkit/fastify: lifecycle delivery not applied');
      }
      return send(reply, result);
    }));
  });
}
