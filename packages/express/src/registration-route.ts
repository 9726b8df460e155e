import {
  ErrorCodes,
  FixedWindowLimiter,
  handleRegistration,
  isMeterkitError,
  registrationError,
  type Metering,
  type RegistrationResult, rateLimitedResult
} from '@meterkit/core';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ResolvedRegistration } from './options';

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The code of a 429 from the registration route (the core has no error for an HTTP rate limit). */

/** A POST with no body and no content type is a registration without a token (400), not a wrong media type. */
function isEmptyUntypedBody(req: Request): boolean {
  return req.headers['content-type'] === undefined && req.headers['content-length'] === '0';
}

function send(res: Response, result: RegistrationResult): void {
  if (result.status === 500) console.error('meterkit(express): the registration hook (onRegistered) failed:', result.cause);
  res.set('Cache-Control', 'no-store');
  if (result.status === 303) res.redirect(303, result.location);
  else res.status(result.status).json(result.body);
}

/** Maps body-parser's errors (all client errors) to the registration route's answers. */
function bodyError(error: { status?: number; type?: string }, limit: number): RegistrationResult {
  if (error.status === 413) {
    return registrationError(413, ErrorCodes.TOKEN_MALFORMED, `The registration form is larger than ${limit} bytes and was not read.`);
  }
  if (error.status === 415) {
    return registrationError(415, ErrorCodes.TOKEN_MALFORMED, 'The registration form must be application/x-www-form-urlencoded in UTF-8.');
  }
  return registrationError(400, ErrorCodes.TOKEN_MALFORMED, 'The registration form could not be read. Start again from "Set up your account" in AWS Marketplace.');
}

/**
 * POST handler of the registration route: per-client-address rate limit, its own size-capped form parser, then
 * the core's handleRegistration (ResolveCustomer, customer stored, your onRegistered hook, redirect or JSON).
 * Bad input is a 4xx, AWS or store trouble a 502/503; an error thrown by your hook a 500 ERR_METERKIT_REGISTRATION_HOOK
 * (logged with console.error), the same answers as every adapter.
 */
export function registrationRoute(metering: Metering, options: ResolvedRegistration): RequestHandler {
  const limiter = new FixedWindowLimiter(options.rateLimitPerMinute, 60_000);
  // The form is bounded by its size alone, as in every adapter: n bytes hold at most n + 1 '&'-separated fields,
  // so body-parser's field count never refuses a form the size cap lets through.
  const parseForm = express.urlencoded({ extended: false, inflate: false, limit: options.maxBodyBytes, parameterLimit: options.maxBodyBytes + 1 });

  const register = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let result: RegistrationResult;
    try {
      result = await handleRegistration(metering, req.body ?? {}, req, options);
    } catch (error) {
      if (isMeterkitError(error, ErrorCodes.STORE)) {
        result = registrationError(503, error.code, 'Registration is unavailable right now; please try the same link again in a few minutes.');
      } else {
        return next(error);
      }
    }
    send(res, result);
  };

  return function meterkitRegistration(req: Request, res: Response, next: NextFunction): void {
    if (!limiter.take(req.ip ?? req.socket.remoteAddress ?? 'unknown')) {
      res.set('Retry-After', '60');
      return send(res, rateLimitedResult());
    }
    if (req.is(FORM_TYPE) === false && !isEmptyUntypedBody(req)) {
      return send(res, registrationError(415, ErrorCodes.TOKEN_MALFORMED, `The registration form must be ${FORM_TYPE}.`));
    }
    parseForm(req, res, (error?: unknown) => {
      if (error !== undefined && error !== null) return send(res, bodyError(error as { status?: number; type?: string }, options.maxBodyBytes));
      register(req, res, next).catch(next);
    });
  };
}
