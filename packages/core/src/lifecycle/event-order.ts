import type { CustomerRecord, CustomerStatus } from '../model/customer';

/**
 * What a lifecycle event does to the customer's status: License Updated and subscribe-success activate; License
 * Deprovisioned, a cancelled or expired agreement and unsubscribe-pending open the final-usage window; subscribe-fail
 * and unsubscribe-success end it. Other events (amended, renewed, entitlement-updated) change no status.
 */
export type StatusEffect = 'activate' | 'open-final-usage' | 'end';

/** The customer's final-usage bookkeeping; see CustomerRecord. */
export interface FinalUsageWindow {
  readonly lastActivationAt?: number;
  readonly finalUsageOpenedAt?: readonly number[];
  readonly finalUsageDeadline?: number;
}

/** Openers kept per customer, the earliest first: far more than AWS sends between two activations. */
const MAX_OPENERS = 20;

// Event times have one-second resolution. On a tie the more final event counts as the later one: an activation
// never reopens a leaving customer, an opener never reopens an ended one.
const EFFECT_RANK: Readonly<Record<StatusEffect, number>> = { activate: 0, 'open-final-usage': 1, end: 2 };
const STATUS_RANK: Readonly<Record<CustomerStatus, number>> = { registered: 0, active: 0, deprovisioning: 1, inactive: 2 };

/**
 * Time of the newest status-changing event applied to the customer (0 when none). A record written before this was
 * kept separately counts every event applied, as the rules of that time did.
 */
export function statusEventAt(customer: CustomerRecord): number {
  return customer.lastStatusEventAt ?? customer.lastEventAt ?? 0;
}

/** Whether a status event is newer than every status event applied, so that its status applies. */
export function isNewestStatusEvent(customer: CustomerRecord, time: number, effect: StatusEffect): boolean {
  const last = statusEventAt(customer);
  return time > last || (time === last && EFFECT_RANK[effect] >= STATUS_RANK[customer.status]);
}

/** Whether an event that changes no status is not older than every event applied (it then records what it says). */
export function isNewestEvent(customer: CustomerRecord, time: number): boolean {
  return customer.lastEventAt === undefined || time >= customer.lastEventAt;
}

/**
 * The final-usage window once the customer has seen this event, whether or not its status applies: the deadline is
 * `finalUsageMs` after the earliest opener since the latest activation. So an opener older than the status still
 * moves the deadline earlier, and an activation older than the status still closes the window of the openers
 * before it, exactly as if every event had arrived in event-time order.
 */
export function windowAfter(customer: CustomerRecord, time: number, effect: StatusEffect, finalUsageMs: number): FinalUsageWindow {
  let activation = customer.lastActivationAt;
  let opened = openersOf(customer, finalUsageMs);
  if (effect === 'activate') {
    activation = Math.max(activation ?? time, time);
    const since = activation;
    opened = opened.filter((at) => at >= since);
  } else if (effect === 'open-final-usage' && (activation === undefined || time >= activation) && !opened.includes(time)) {
    opened = [...opened, time].sort((a, b) => a - b).slice(0, MAX_OPENERS);
  }
  return {
    ...(activation === undefined ? {} : { lastActivationAt: activation }),
    ...(opened.length === 0 ? {} : { finalUsageOpenedAt: opened, finalUsageDeadline: opened[0]! + finalUsageMs }),
  };
}

/** Whether `window` is what the customer already holds. */
export function sameWindow(customer: CustomerRecord, window: FinalUsageWindow): boolean {
  const held = customer.finalUsageOpenedAt ?? [];
  const next = window.finalUsageOpenedAt ?? [];
  return (
    customer.lastActivationAt === window.lastActivationAt &&
    customer.finalUsageDeadline === window.finalUsageDeadline &&
    held.length === next.length &&
    held.every((at, i) => at === next[i])
  );
}

/** The customer with `window` in place of its final-usage bookkeeping. */
export function withWindow(customer: CustomerRecord, window: FinalUsageWindow): CustomerRecord {
  const { lastActivationAt: _a, finalUsageOpenedAt: _o, finalUsageDeadline: _d, ...rest } = customer;
  return { ...rest, ...window };
}

/**
 * The openers a customer holds. A leaving customer written before they were kept has only its deadline: that
 * deadline's opener stands in for them.
 */
function openersOf(customer: CustomerRecord, finalUsageMs: number): readonly number[] {
  if (customer.finalUsageOpenedAt !== undefined) return customer.finalUsageOpenedAt;
  const leaving = customer.status === 'deprovisioning' || customer.status === 'inactive';
  return leaving && customer.finalUsageDeadline !== undefined ? [customer.finalUsageDeadline - finalUsageMs] : [];
}
