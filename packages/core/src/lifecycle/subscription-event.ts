import type { CustomerRecord } from '../model/customer';

/** What a subscription change means for the app: grant, keep, move or revoke access. */
export type SubscriptionChange = 'activated' | 'updated' | 'renewed' | 'replaced' | 'deprovisioning' | 'ended';

export interface SubscriptionEvent {
  readonly change: SubscriptionChange;
  readonly customer: CustomerRecord;
  /** For renewed / replaced: the customer whose agreement this one succeeds. */
  readonly previous?: CustomerRecord;
  readonly eventType: string;
  readonly eventId: string;
}
