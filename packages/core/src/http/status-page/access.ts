import { createHash, timingSafeEqual } from 'node:crypto';

export type HeaderValue = string | readonly string[] | undefined;

/** The bearer token of `Authorization: Bearer <token>`, else the `token` query parameter. */
export function presentedToken(headers: Readonly<Record<string, HeaderValue>>, url: URL): string | undefined {
  const raw = headers['authorization'] ?? headers['Authorization'];
  const authorization = Array.isArray(raw) ? raw[0] : (raw as string | undefined);
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? url.searchParams.get('token') ?? undefined;
}

/** Constant-time comparison: both sides are hashed first, so neither the content nor the length leaks. */
export function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
