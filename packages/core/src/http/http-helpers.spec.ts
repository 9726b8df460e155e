import { shouldCommit } from './commit-policy';
import { FixedWindowLimiter } from './rate-limit';
import { parseForm, tokenFromForm } from './registration-route';

describe('framework-neutral HTTP helpers', () => {
  it('bills responses below 400 and never aborted ones, unless configured', () => {
    expect(shouldCommit(200, false)).toBe(true);
    expect(shouldCommit(304, false)).toBe(true);
    expect(shouldCommit(399, false)).toBe(true);
    for (const refused of [400, 401, 403, 404, 422, 429]) expect(shouldCommit(refused, false)).toBe(false);
    expect(shouldCommit(500, false)).toBe(false);
    expect(shouldCommit(404, false, { commitOn: (s) => s < 500 })).toBe(true);
    expect(shouldCommit(200, true)).toBe(false);
    expect(shouldCommit(200, true, { commitAborted: true })).toBe(true);
    expect(shouldCommit(404, false, { commitOn: (s) => s < 400 })).toBe(false);
  });

  it('parses a form and refuses a repeated token field', () => {
    const form = parseForm('x-amzn-marketplace-token=abc%2B%3D&x-amzn-marketplace-offer-type=free-trial');
    expect(tokenFromForm(form)).toBe('abc+=');
    expect(form['x-amzn-marketplace-offer-type']).toBe('free-trial');
    expect(tokenFromForm(parseForm('x-amzn-marketplace-token=a&x-amzn-marketplace-token=b'))).toBeUndefined();
    expect(tokenFromForm(parseForm('__proto__=x'))).toBeUndefined();
    expect(tokenFromForm(null)).toBeUndefined();
  });

  it('limits calls per key per window', () => {
    const limiter = new FixedWindowLimiter(2, 1000);
    expect([limiter.take('a', 0), limiter.take('a', 1), limiter.take('a', 2), limiter.take('b', 3)]).toEqual([true, true, false, true]);
    expect(limiter.take('a', 1000)).toBe(true);
    expect(new FixedWindowLimiter(0).take('a')).toBe(true);
  });
});
