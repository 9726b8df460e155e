/**
 * Calls per key (a client address) per window, bounded in memory without ever refusing a key that stayed under
 * its limit. Each key's window starts at its first call, so a key is refused only after `limit` calls in the last
 * `windowMs`. At `maxKeys` keys the least recently seen key is forgotten (it starts over with a fresh window):
 * many addresses can make the limiter forget an address, never lock out one it has not seen.
 */
export class FixedWindowLimiter {
  /** In least recently seen order: a key seen again moves to the end. */
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number = 60_000,
    private readonly maxKeys: number = 50_000,
  ) {}

  /** Keys remembered now (at most maxKeys). */
  get size(): number {
    return this.windows.size;
  }

  /** True when the call is allowed. A limit of 0 allows everything. IPv6 addresses count per /64 (see clientKey). */
  take(address: string, now: number = Date.now()): boolean {
    if (this.limit <= 0) return true;
    const key = clientKey(address);
    let window = this.windows.get(key);
    if (window !== undefined) this.windows.delete(key);
    if (window === undefined || now - window.start >= this.windowMs || now < window.start) {
      window = { start: now, count: 0 };
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, window);
    if (window.count >= this.limit) return false;
    window.count++;
    return true;
  }
}

/**
 * The key an address is counted under: an IPv4 address as is (also when written IPv4-mapped, `::ffff:a.b.c.d`),
 * an IPv6 address by its /64 (one subscriber usually holds a whole /64), anything else as given.
 */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  const hextets = expandIpv6(address.replace(/^\[|\]$/g, '').split('%')[0]!.toLowerCase());
  if (hextets === undefined) return address;
  if (hextets.slice(0, 5).every((h) => h === '0') && hextets[5] === 'ffff') {
    const [high, low] = [parseInt(hextets[6]!, 16), parseInt(hextets[7]!, 16)];
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return `${hextets.slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address (an embedded IPv4 tail counts as two), or undefined when it is not one. */
function expandIpv6(address: string): string[] | undefined {
  let text = address;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((n) => n > 255)) return undefined;
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((h) => /^[0-9a-f]{1,4}$/.test(h))) return undefined;
  return all.map((h) => h.replace(/^0+(?=.)/, ''));
}
