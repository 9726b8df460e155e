import type { CustomerRecord } from '../model/customer';
import { customerRecord, licenseIdentity, T0 } from '../store/conformance/fixtures';
import { isNewestEvent, isNewestStatusEvent, sameWindow, statusEventAt, windowAfter, withWindow } from './event-order';

const F = 50 * 60_000;
const customer = (fields: Partial<CustomerRecord>): CustomerRecord => customerRecord(licenseIdentity(1), fields);

describe('lifecycle event order', () => {
  it('compares status events with the newest status event; a record from before it was kept counts every event', () => {
    expect(statusEventAt(customer({}))).toBe(0);
    expect(statusEventAt(customer({ lastEventAt: T0 + 5 }))).toBe(T0 + 5);
    const amendedLater = customer({ status: 'active', lastEventAt: T0 + 5, lastStatusEventAt: T0 + 1 });
    expect(isNewestStatusEvent(amendedLater, T0 + 3, 'open-final-usage')).toBe(true);
    expect(isNewestEvent(amendedLater, T0 + 3)).toBe(false);
    expect(isNewestStatusEvent(customer({ status: 'active', lastEventAt: T0 + 5 }), T0 + 3, 'open-final-usage')).toBe(false);
  });

  it('on a tie takes the more final event as the later one', () => {
    const at = (status: CustomerRecord['status']) => customer({ status, lastStatusEventAt: T0 });
    expect(isNewestStatusEvent(at('deprovisioning'), T0, 'activate')).toBe(false);
    expect(isNewestStatusEvent(at('inactive'), T0, 'open-final-usage')).toBe(false);
    expect(isNewestStatusEvent(at('deprovisioning'), T0, 'end')).toBe(true);
    expect(isNewestStatusEvent(at('active'), T0, 'activate')).toBe(true);
    expect(isNewestStatusEvent(at('active'), T0, 'open-final-usage')).toBe(true);
  });

  it('counts the deadline from the earliest opener since the latest activation, whatever the order they are seen in', () => {
    let c = customer({ status: 'active' });
    for (const [time, effect] of [
      [T0 + 5, 'open-final-usage'],
      [T0 + 1, 'open-final-usage'],
      [T0 + 4, 'open-final-usage'],
      [T0 + 3, 'activate'],
      [T0 + 2, 'open-final-usage'],
    ] as const) {
      c = withWindow(c, windowAfter(c, time, effect, F));
    }
    expect(c).toMatchObject({ lastActivationAt: T0 + 3, finalUsageOpenedAt: [T0 + 4, T0 + 5], finalUsageDeadline: T0 + 4 + F });
    const closed = withWindow(c, windowAfter(c, T0 + 6, 'activate', F));
    expect(closed.finalUsageDeadline).toBeUndefined();
    expect(closed.finalUsageOpenedAt).toBeUndefined();
    expect(sameWindow(closed, windowAfter(closed, T0 + 6, 'end', F))).toBe(true);
  });

  it('takes the deadline of a leaving record written before openers were kept as its opener', () => {
    const before = customer({ status: 'deprovisioning', lastEventAt: T0 + 9, finalUsageDeadline: T0 + 9 + F });
    expect(windowAfter(before, T0 + 2, 'open-final-usage', F)).toEqual({ finalUsageOpenedAt: [T0 + 2, T0 + 9], finalUsageDeadline: T0 + 2 + F });
    expect(windowAfter(customer({ status: 'active', finalUsageDeadline: T0 + F }), T0 + 2, 'end', F)).toEqual({});
  });
});
