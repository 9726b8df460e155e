import type { CustomerStatus } from '../../../src';
import { eventId, isLegacy, type EventSpec } from './lifecycle-events';

/** The part of a customer record lifecycle events decide. */
export interface ModelCustomer {
  readonly status: CustomerStatus;
  /** Newest event time applied (ms epoch). */
  readonly lastEventAt?: number;
  /** Set while deprovisioning. */
  readonly finalUsageDeadline?: number;
}

/**
 * The reference model: the customer after applying the events one by one in event-time order, each once
 * (redeliveries share an id). The documented semantics of docs/lifecycle: License Updated and subscribe-success
 * activate; License Deprovisioned, a cancelled or expired agreement and unsubscribe-pending open the final-usage
 * window (deadline: the earliest such event since the last activation, plus finalUsageMs, for licensed and legacy
 * customers alike); subscribe-fail and unsubscribe-success end it; other events change no status.
 */
export function expectedCustomer(
  initial: ModelCustomer,
  specs: readonly EventSpec[],
  legacy: boolean,
  timeOf: (spec: EventSpec) => number,
  finalUsageMs: number,
): ModelCustomer {
  const seen = new Set<string>();
  const ordered = specs
    .filter((spec) => isLegacy(spec.kind) === legacy)
    .filter((spec) => (seen.has(eventId(spec)) ? false : (seen.add(eventId(spec)), true)))
    .sort((a, b) => a.second - b.second);
  let state: ModelCustomer = initial;
  for (const spec of ordered) {
    const time = timeOf(spec);
    const lastEventAt = Math.max(state.lastEventAt ?? 0, time);
    const deprovision = (): ModelCustomer => ({
      status: 'deprovisioning',
      lastEventAt,
      finalUsageDeadline: Math.min(state.finalUsageDeadline ?? Number.POSITIVE_INFINITY, time + finalUsageMs),
    });
    switch (spec.kind) {
      case 'license-updated':
      case 'legacy-subscribe-success':
        state = { status: 'active', lastEventAt };
        break;
      case 'license-deprovisioned':
      case 'agreement-cancelled':
      case 'agreement-expired':
      case 'legacy-unsubscribe-pending':
        state = deprovision();
        break;
      case 'legacy-subscribe-fail':
      case 'legacy-unsubscribe-success':
        state = { ...state, status: 'inactive', lastEventAt };
        break;
      case 'agreement-renewed':
      case 'agreement-amended':
      case 'legacy-entitlement-updated':
        state = { ...state, lastEventAt };
        break;
    }
  }
  return state;
}

/** The fields the model decides, from a stored customer (the deadline only while deprovisioning). */
export function observed(customer: { status: CustomerStatus; lastEventAt?: number; finalUsageDeadline?: number } | undefined): ModelCustomer | undefined {
  if (customer === undefined) return undefined;
  return {
    status: customer.status,
    ...(customer.lastEventAt === undefined ? {} : { lastEventAt: customer.lastEventAt }),
    ...(customer.status === 'deprovisioning' && customer.finalUsageDeadline !== undefined ? { finalUsageDeadline: customer.finalUsageDeadline } : {}),
  };
}

export function comparable(model: ModelCustomer): ModelCustomer {
  return observed(model as { status: CustomerStatus; lastEventAt?: number; finalUsageDeadline?: number })!;
}
