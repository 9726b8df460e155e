import { METER_USAGE_WINDOW } from '../product/meter-usage-window';
import { BATCH_METER_USAGE_WINDOW, dueBefore, dueBeforeAny, hourOf, maxLockMs, submissionDeadline, type DueRules } from './hours';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const rules: DueRules = { ...BATCH_METER_USAGE_WINDOW, lockMs: 10 * 60_000, monthEndMarginMs: 3 * H };

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

  it('allows locks that keep 3 hours of BatchMeterUsage retries and 2 hours of MeterUsage retries', () => {
    expect(maxLockMs(BATCH_METER_USAGE_WINDOW)).toBe(20 * H);
    expect(maxLockMs(METER_USAGE_WINDOW)).toBe(3 * H);
  });

  it('makes a product hour due with 2 hours of MeterUsage\'s 6-hour window left, whatever the lock', () => {
    const product: DueRules = { ...rules, ...METER_USAGE_WINDOW, lockMs: 5 * H };
    expect(dueBefore(at('2026-07-15T13:59:00Z'), product)).toBe(at('2026-07-15T10:00:00Z'));
    expect(dueBefore(at('2026-07-15T14:00:00Z'), product)).toBe(at('2026-07-15T11:00:00Z'));
    expect(submissionDeadline(at('2026-07-15T10:00:00Z'), METER_USAGE_WINDOW) - at('2026-07-15T14:00:00Z')).toBe(2 * H);
  });

  it('makes an hour due as soon as the window of one identity mode in use makes it due', () => {
    const long: DueRules = { ...rules, lockMs: 5 * H };
    const now = at('2026-07-15T14:30:00Z');
    expect(dueBeforeAny(now, long, [BATCH_METER_USAGE_WINDOW])).toBe(at('2026-07-15T09:00:00Z'));
    expect(dueBeforeAny(now, long, [BATCH_METER_USAGE_WINDOW, METER_USAGE_WINDOW])).toBe(at('2026-07-15T11:00:00Z'));
  });
});
