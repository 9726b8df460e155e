import type { LifecycleEvent } from '../../../src/lifecycle/marketplace-event';

/**
 * Lifecycle events of one licensed and one legacy customer, in the parsed form applyLifecycleEvent() takes.
 * A spec names an event without ids and ARNs, so counterexamples stay readable; `toEvent` fills them in.
 */
export type EventKind =
  | 'license-updated'
  | 'license-deprovisioned'
  | 'agreement-cancelled'
  | 'agreement-expired'
  | 'agreement-renewed'
  | 'agreement-amended'
  | 'legacy-subscribe-success'
  | 'legacy-subscribe-fail'
  | 'legacy-unsubscribe-pending'
  | 'legacy-unsubscribe-success'
  | 'legacy-entitlement-updated';

export interface EventSpec {
  readonly kind: EventKind;
  /** Seconds after the run's first event time: distinct within a run. */
  readonly second: number;
}

/** Events that change the customer's status; the others only touch its agreement or nothing. */
export const STATUS_EVENTS: readonly EventKind[] = [
  'license-updated',
  'license-deprovisioned',
  'agreement-cancelled',
  'agreement-expired',
  'legacy-subscribe-success',
  'legacy-subscribe-fail',
  'legacy-unsubscribe-pending',
  'legacy-unsubscribe-success',
];

export const NEUTRAL_EVENTS: readonly EventKind[] = ['agreement-renewed', 'agreement-amended', 'legacy-entitlement-updated'];

export function isLegacy(kind: EventKind): boolean {
  return kind.startsWith('legacy-');
}

export interface EventTargets {
  readonly licenseArn: string;
  readonly accountId: string;
  readonly agreementId: string;
  readonly licensedProduct: string;
  readonly legacyProduct: string;
  readonly customerIdentifier: string;
  /** Time of second 0 (ms epoch). */
  readonly base: number;
}

export function eventId(spec: EventSpec): string {
  return `${spec.kind}@${spec.second}`;
}

export function toEvent(spec: EventSpec, t: EventTargets): LifecycleEvent {
  const id = eventId(spec);
  const time = t.base + spec.second * 1000;
  const license = { licenseArn: t.licenseArn, productCode: t.licensedProduct, accountId: t.accountId, agreementId: t.agreementId };
  const legacy = { productCode: t.legacyProduct, customerIdentifier: t.customerIdentifier };
  switch (spec.kind) {
    case 'license-updated':
      return { id, time, type: 'License Updated', change: { kind: 'license-updated', ...license } };
    case 'license-deprovisioned':
      return { id, time, type: 'License Deprovisioned', change: { kind: 'license-deprovisioned', ...license } };
    case 'agreement-cancelled':
      return { id, time, type: 'Purchase Agreement Ended', change: { kind: 'agreement-ended', agreementId: t.agreementId, status: 'CANCELLED' } };
    case 'agreement-expired':
      return { id, time, type: 'Purchase Agreement Ended', change: { kind: 'agreement-ended', agreementId: t.agreementId, status: 'EXPIRED' } };
    case 'agreement-renewed':
      return { id, time, type: 'Purchase Agreement Ended', change: { kind: 'agreement-ended', agreementId: t.agreementId, status: 'RENEWED' } };
    case 'agreement-amended':
      return { id, time, type: 'Purchase Agreement Amended', change: { kind: 'agreement-amended', agreementId: t.agreementId } };
    default: {
      const action = spec.kind.slice('legacy-'.length);
      return { id, time, type: action, change: { kind: spec.kind, ...legacy } };
    }
  }
}
