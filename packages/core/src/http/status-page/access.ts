import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HeaderValue = string | readonly string[] | undefined;

/** The cookie the login form sets. */
export const SESSION_COOKIE = 'meterkit_status';

function header(headers: Readonly<Record<string, HeaderValue>>, name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : (raw as string | undefined);
}

/** The token of `Authorization: Bearer <token>`, else of `x-meterkit-token`. Never the query string. */
export function presentedToken(headers: Readonly<Record<string, HeaderValue>>): string | undefined {
  const authorization = header(headers, 'authorization');
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const token = match?.[1] ?? header(headers, 'x-meterkit-token')?.trim();
  return token === '' ? undefined : token;
}

/** Constant-time comparison: both sides are hashed first, so neither the content nor the length leaks. */
export function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** True when the URL names a token in its query string: refused, the token belongs in a header or the login form. */
export function tokenInQuery(url: URL): boolean {
  for (const name of url.searchParams.keys()) if (name.toLowerCase() === 'token') return true;
  return false;
}

function signature(token: string, expiresAt: number): string {
  return createHmac('sha256', token).update(`meterkit-status-session:${expiresAt}`).digest('base64url');
}

/** A session cookie's value: its expiry and a MAC of it keyed by the token (the token itself never leaves the server). */
export function sessionValue(token: string, expiresAt: number): string {
  return `${expiresAt}.${signature(token, expiresAt)}`;
}

/** Whether the request's session cookie was issued with `token` and has not expired at `now`. */
export function validSession(headers: Readonly<Record<string, HeaderValue>>, token: string, now: number): boolean {
  const cookies = header(headers, 'cookie');
  if (cookies === undefined) return false;
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(part.slice(eq + 1).trim());
    if (match === null) continue;
    const expiresAt = Number(match[1]);
    if (expiresAt > now && sameToken(match[2], signature(token, expiresAt))) return true;
  }
  return false;
}

/**
 * `Set-Cookie` for a session (or one that clears it, with max age 0): HttpOnly, SameSite=Strict, Secure over HTTPS.
 * No Path: the browser scopes it to the directory of the page it posted to, whatever prefix the app mounts it under.
 */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
