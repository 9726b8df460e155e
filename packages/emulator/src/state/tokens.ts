/** Registration tokens: opaque, reusable until they expire (default 4 h). */
import { createHmac, randomBytes } from 'node:crypto';

export interface TokenEntry {
  buyerRef: string;
  expiresAt: number;
}

export type TokenLookup = { ok: true; buyerRef: string } | { ok: false; reason: 'invalid' | 'expired' };

export class Tokens {
  private readonly entries = new Map<string, TokenEntry>();
  private readonly secret = randomBytes(32);

  constructor(private readonly ttlMs: number) {}

  issue(buyerRef: string, now: number): string {
    const nonce = randomBytes(24).toString('base64url');
    const mac = createHmac('sha256', this.secret).update(nonce).digest('base64url').slice(0, 22);
    const token = `${nonce}.${mac}`;
    this.entries.set(token, { buyerRef, expiresAt: now + this.ttlMs });
    return token;
  }

  resolve(token: string, now: number): TokenLookup {
    const e = this.entries.get(token);
    if (!e) return { ok: false, reason: 'invalid' };
    if (now >= e.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, buyerRef: e.buyerRef };
  }
}
