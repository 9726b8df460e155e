import fc from 'fast-check';
import { clientKey, FixedWindowLimiter } from './rate-limit';

describe('registration rate limiter', () => {
  it('never locks a new address out when many addresses filled it (the 50,000-address lockout)', () => {
    const limiter = new FixedWindowLimiter(30, 60_000, 100);
    for (let i = 0; i < 1000; i++) expect(limiter.take(`10.0.${i >> 8}.${i & 255}`, 5)).toBe(true);
    expect(limiter.take('192.0.2.7', 6)).toBe(true);
    expect(limiter.size).toBe(100);
  });

  it('regression (shrunk counterexample): limit 1, one key of room, a second address at the same instant is served', () => {
    const limiter = new FixedWindowLimiter(1, 1000, 1);
    expect([limiter.take('192.0.2.1', 0), limiter.take('10.1.0.0', 0)]).toEqual([true, true]);
  });

  it('counts an IPv6 address by its /64, and an IPv4-mapped address as the IPv4 one', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0DB8:0001:0002:ffff:ffff:ffff:9')).toBe('2001:db8:1:2::/64');
    expect(clientKey('[2001:db8:1:3::1]')).toBe('2001:db8:1:3::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::ffff:c000:201')).toBe('192.0.2.1');
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('unknown')).toBe('unknown');
    expect(clientKey('not:an:address')).toBe('not:an:address');

    const limiter = new FixedWindowLimiter(2, 60_000);
    expect(['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2::3', '2001:db8:1:3::1'].map((a) => limiter.take(a, 0))).toEqual([true, true, false, true]);
  });

  it('starts each address its own window: a refused address is served again windowMs after its first call', () => {
    const limiter = new FixedWindowLimiter(2, 1000);
    expect([limiter.take('a', 500), limiter.take('a', 600), limiter.take('a', 1100), limiter.take('a', 1500)]).toEqual([true, true, false, true]);
  });

  // Invariant: whatever the sequence of addresses and times, a call is refused only when its address (its /64 for
  // IPv6) already made `limit` allowed calls in the last windowMs; and the limiter never holds more than maxKeys keys.
  it('never refuses an address that stayed under its limit, and stays within maxKeys', () => {
    const addresses = ['192.0.2.1', '192.0.2.2', '::ffff:192.0.2.1', '2001:db8::1', '2001:db8::2', '2001:db8:0:1::1', '198.51.100.9', '203.0.113.5'];
    const call = fc.record({
      address: fc.oneof(fc.constantFrom(...addresses), fc.integer({ min: 0, max: 400 }).map((i) => `10.1.${i >> 8}.${i & 255}`)),
      advance: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.array(call, { maxLength: 300 }), (limit, maxKeys, calls) => {
        const windowMs = 1000;
        const limiter = new FixedWindowLimiter(limit, windowMs, maxKeys);
        const allowed = new Map<string, number[]>();
        let now = 0;
        for (const { address, advance } of calls) {
          now += advance;
          const key = clientKey(address);
          const recent = (allowed.get(key) ?? []).filter((t) => t > now - windowMs);
          if (limiter.take(address, now)) allowed.set(key, [...recent, now]);
          else expect(recent.length).toBeGreaterThanOrEqual(limit);
          expect(limiter.size).toBeLessThanOrEqual(maxKeys);
        }
      }),
      { numRuns: 300 },
    );
  });
});
