/**
 * GetEntitlements NextToken: opaque (HMAC-signed), bound to the product and filter it was issued for, carrying
 * the offset of the next page and whether the empty page in front of it (emptyPages) was already served.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface PagePosition {
  offset: number;
  /** The empty page for this offset was served (only read while emptyPages is on). */
  emptyServed: boolean;
}

/** Order and repetition of a key's values do not matter (a union), nor the order of keys (an intersection). */
export function pageBinding(productCode: string, filter: Record<string, string[]>): string {
  const canonical = Object.keys(filter)
    .sort()
    .map((k) => [k, [...new Set(filter[k])].sort()]);
  return createHash('sha256').update(JSON.stringify([productCode, canonical])).digest('base64url').slice(0, 16);
}

export class PageTokens {
  private readonly secret = randomBytes(32);

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url').slice(0, 22);
  }

  issue(binding: string, p: PagePosition): string {
    const payload = Buffer.from(JSON.stringify({ b: binding, o: p.offset, x: p.emptyServed ? 1 : 0 })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The position a token names, 'invalid' for anything this emulator did not issue, 'mismatch' for another product or filter. */
  read(token: string, binding: string): PagePosition | 'invalid' | 'mismatch' {
    const [payload, mac, ...rest] = token.split('.');
    if (!payload || !mac || rest.length) return 'invalid';
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { b: string; o: number; x: number };
    if (data.b !== binding) return 'mismatch';
    return { offset: data.o, emptyServed: data.x === 1 };
  }
}
