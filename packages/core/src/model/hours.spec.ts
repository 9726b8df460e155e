import { dueBefore, hourOf, submissionDeadline, type DueRules } from './hours';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const rules: DueRules = { windowMs: 24 * H, monthEndCutoffHours: 6, lockMs: 10 * 60_000, monthEndMarginMs: 3 * H };

describe('hours and AWS windows', () => {
  it('stamps usage with the start of its UTC hour', () => {
    expect(hourOf(at('2026-07-01T10:59:59.999Z'))).toBe(at('2026-07-01T10:00:00Z'));
    expect(hourOf(at('2026-07-01T10:00:00Z'))).toBe(at('2026-07-01T10:00:00Z'));
  });

  it('gives a mid-month hour 24 hours', () => {
    expect(submissionDeadline(at('2026-07-15T10:00:00Z'))).toBe(at('2026-07-16T10:00:00Z'));
  });

  it('cuts previous-month hours off at 06:00 UTC on the 1st, even when younger than 24 hours', () => {
    expect(submissionDeadline(at('2026-03-31T23:00:00Z'))).toBe(at('2026-04-01T06:00:00Z'));
    expect(submissionDeadline(at('2026-03-31T05:00:00Z'))).toBe(at('2026-04-01T05:00:00Z'));
    expect(submissionDeadline(at('2026-12-31T22:00:00Z'))).toBe(at('2027-01-01T06:00:00Z'));
  });

  it('makes an hour due once it closed and its lock passed', () => {
    expect(dueBefore(at('2026-07-15T11:09:00Z'), rules)).toBe(at('2026-07-15T10:00:00Z'));
    expect(dueBefore(at('2026-07-15T11:10:00Z'), rules)).toBe(at('2026-07-15T11:00:00Z'));
  });

  it('waives a long lock for previous-month hours before the month-end cutoff', () => {
    const long: DueRules = { ...rules, lockMs: 5 * H };
    expect(dueBefore(at('2026-04-01T02:30:00Z'), long)).toBe(at('2026-03-31T21:00:00Z'));
    expect(dueBefore(at('2026-04-01T03:00:00Z'), long)).toBe(at('2026-04-01T00:00:00Z'));
  });
});
