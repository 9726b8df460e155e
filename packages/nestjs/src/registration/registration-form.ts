import { ErrorCodes, parseForm, registrationError, type RegistrationResult } from '@meterkit/core';
import type { IncomingHttpHeaders } from 'node:http';

const FORM_TYPE = 'application/x-www-form-urlencoded';
/** The charsets Express's form parser reads; the token is ASCII, read the same in either. */
const FORM_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'iso-8859-1']);

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
  // Another charset or a content encoding is refused as in every adapter: Fastify's form parser matches the media
  // type alone and reads the bytes as sent, so it would misread them.
  if (!readableAsSent(request.headers)) return { refused: registrationError(415, ErrorCodes.TOKEN_MALFORMED, `The registration form must be ${FORM_TYPE} in UTF-8 or ISO-8859-1, not encoded.`) };
  const declared = Number(request.headers['content-length'] ?? 0);
  const body = request.body;
  const size = Number.isFinite(declared) && declared > 0 ? declared : encodedSize(body);
  if (size > maxBodyBytes) return { refused: registrationError(413, ErrorCodes.TOKEN_MALFORMED, `The registration form is larger than ${maxBodyBytes} bytes and was not read.`) };
  if (typeof body === 'string') return { form: parseForm(body) };
  if (body === null || typeof body !== 'object') return { refused: registrationError(400, ErrorCodes.TOKEN_MALFORMED, 'The registration form could not be read.') };
  return { form: body };
}

function readableAsSent(headers: IncomingHttpHeaders): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(headers['content-type'] ?? ''))?.[1]?.toLowerCase();
  if (charset !== undefined && !FORM_CHARSETS.has(charset)) return false;
  const encoding = String(headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  return encoding === 'identity' || encoding === '';
}

function encodedSize(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body === null || typeof body !== 'object') return 0;
  return Buffer.byteLength(JSON.stringify(body));
}
