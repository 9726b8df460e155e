import { ErrorCodes, parseForm, registrationError, type RegistrationResult } from '@meterkit/core';
import type { IncomingHttpHeaders } from 'node:http';

const FORM_TYPE = 'application/x-www-form-urlencoded';

interface PlatformRequest {
  readonly headers: IncomingHttpHeaders;
  /** The form as parsed by the platform (Express urlencoded parser, Fastify formbody), or a raw string. */
  readonly body?: unknown;
}

/**
 * The registration form as fields, or the 4xx answer when it is not a urlencoded form within `maxBodyBytes`.
 * The platform parsed the body already (Nest registers a urlencoded parser on both platforms); the cap is checked
 * on the declared length, and on the form's encoded size when the body came chunked.
 */
export function readRegistrationForm(request: PlatformRequest, maxBodyBytes: number): { form: unknown } | { refused: RegistrationResult } {
  const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== FORM_TYPE) return { refused: registrationError(415, ErrorCodes.TOKEN_MALFORMED, `The registration form must be sent as ${FORM_TYPE}.`) };
  const declared = Number(request.headers['content-length'] ?? 0);
  const body = request.body;
  const size = Number.isFinite(declared) && declared > 0 ? declared : encodedSize(body);
  if (size > maxBodyBytes) return { refused: registrationError(413, ErrorCodes.TOKEN_MALFORMED, `The registration form is larger than ${maxBodyBytes} bytes and was not read.`) };
  if (typeof body === 'string') return { form: parseForm(body) };
  if (body === null || typeof body !== 'object') return { refused: registrationError(400, ErrorCodes.TOKEN_MALFORMED, 'The registration form could not be read.') };
  return { form: body };
}

function encodedSize(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body === null || typeof body !== 'object') return 0;
  return Buffer.byteLength(JSON.stringify(body));
}
