import {
  ErrorCodes,
  FixedWindowLimiter,
  handleRegistration,
  parseForm,
  registrationError,
  type Metering,
  type RegistrationResult, rateLimitedResult
} from '@meterkit/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedRegistration } from './options';
import { ownRoute } from './own-routes';

const FORM = 'application/x-www-form-urlencoded';
/** The charsets Express's form parser reads; the token is ASCII, read the same in either. */
const FORM_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'iso-8859-1']);

/** The code of a 429 from the registration route (core has no code for rate limiting). */

function send(reply: FastifyReply, result: RegistrationResult): FastifyReply {
  if (result.status === 303) return reply.header('cache-control', 'no-store').redirect(result.location, 303);
  return reply.code(result.status).header('cache-control', 'no-store').send(result.body);
}

/** Maps Fastify's body errors (size, media type, content length) to the registration route's answers. */
function bodyError(error: FastifyError): RegistrationResult {
  if (error.statusCode === 413) return registrationError(413, ErrorCodes.TOKEN_MALFORMED, 'The registration form is too large.');
  if (error.statusCode === 415) return registrationError(415, ErrorCodes.TOKEN_MALFORMED, `The registration form must be sent as ${FORM}.`);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return registrationError(400, ErrorCodes.TOKEN_MALFORMED, 'The registration request could not be read.');
  }
  return registrationError(503, ErrorCodes.STORE, 'Registration is unavailable right now; please try the same link again in a few minutes.');
}

/** A form Fastify's string parser reads as sent: UTF-8 or ISO-8859-1 (or none named), no content encoding. */
function readableForm(headers: FastifyRequest['headers']): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(headers['content-type'] ?? ''))?.[1]?.toLowerCase();
  if (charset !== undefined && !FORM_CHARSETS.has(charset)) return false;
  const encoding = String(headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  return encoding === 'identity' || encoding === '';
}

/**
 * Registers the AWS Marketplace registration route in its own encapsulated context: its form parser,
 * body limit, rate limit and error answers apply to this route only, never to the app's other routes.
 */
export function registerRegistrationRoute(fastify: FastifyInstance, metering: Metering, options: ResolvedRegistration): void {
  const limiter = new FixedWindowLimiter(options.rateLimitPerMinute);
  fastify.register(async function meterkitRegistration(child) {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: options.maxBodyBytes }, (request, body, done) => {
      // Fastify matches the media type alone and reads the bytes as they came: a form in another charset or
      // encoding would be misread, so it is refused as Express's form parser does.
      if (!readableForm(request.headers)) return done(Object.assign(new Error(`The registration form must be ${FORM} in UTF-8 or ISO-8859-1, not encoded.`), { statusCode: 415 }), undefined);
      done(null, parseForm(body as string));
    });

    child.setErrorHandler((error: FastifyError, request, reply) => {
      const result = bodyError(error);
      if (result.status >= 500) request.log.error({ code: error.code, err: error.message }, '@meterkit/fastify: registration failed');
      return send(reply, result);
    });

    child.addHook('onRequest', async (request, reply) => {
      if (!limiter.take(request.ip)) {
        return send(reply.header('retry-after', '60'), rateLimitedResult());
      }
    });

    child.post(options.path, { bodyLimit: options.maxBodyBytes }, ownRoute(async (request: FastifyRequest, reply: FastifyReply) => {
      // Never rejects: a failing onRegistered hook is a 500 ERR_METERKIT_REGISTRATION_HOOK, as in every adapter.
      const result = await handleRegistration(metering, request.body, request, options);
      if (result.status === 500) {
        // The customer is stored before the app's hook runs; the buyer can post the same token again.
        const cause = result.cause;
        const { name, code, message } = cause instanceof Error ? (cause as Error & { code?: unknown }) : { name: typeof cause, code: undefined, message: String(cause) };
        request.log.error({ name, code, err: message }, '@meterkit/fastify: the registration hook (onRegistered) failed');
      }
      if (result.status === 400) request.log.info({ code: result.body.error.code }, '@meterkit/fastify: registration refused');
      return send(reply, result);
    }));
  });
}
