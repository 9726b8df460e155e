import { customerKey, type CustomerIdentity, type CustomerRecord } from '../model/customer';
import { isContract, type Product } from '../model/product';
import type { LifecycleEvent } from '../lifecycle/marketplace-event';
import type { ContractCustomer, RefreshRequest } from './refresh-entitlements';

/** An agreement ended this way continues under its successor: not an end signal. */
const SUPERSEDED = new Set(['RENEWED', 'REPLACED']);

export interface EntitlementSignal {
  readonly customer: ContractCustomer;
  readonly request: RefreshRequest;
}

/**
 * The entitlement re-reads a lifecycle event asks for: every one of them is a change signal (none carries
 * quantities). License events name their license; agreement events reach the stored customers of the agreement
 * (`customersOf`); SNS notifications name a legacy customer. Agreement Ended (unless renewed or replaced), License
 * Deprovisioned and SNS unsubscribe-pending / unsubscribe-success are end signals; an SNS entitlement-updated is
 * one once the stored ExpirationDate has passed.
 */
export async function entitlementSignals(
  event: LifecycleEvent,
  products: ReadonlyMap<string, Product>,
  customersOf: (agreementId: string) => Promise<CustomerRecord[]>,
): Promise<EntitlementSignal[]> {
  const change = event.change;
  if (change === undefined) return [];
  const trigger = `event:${event.id}`;
  const contract = (productCode: string) => {
    const product = products.get(productCode);
    return product !== undefined && isContract(product);
  };
  const signal = (identity: CustomerIdentity, request: Omit<RefreshRequest, 'trigger' | 'changeSignal'>): EntitlementSignal => ({
    customer: { key: customerKey(identity), identity, productCode: identity.productCode },
    request: { trigger, changeSignal: true, ...request },
  });
  switch (change.kind) {
    case 'license-updated':
    case 'license-deprovisioned':
      if (!contract(change.productCode)) return [];
      return [
        signal(
          { kind: 'license', licenseArn: change.licenseArn, customerAwsAccountId: change.accountId, productCode: change.productCode },
          { endSignal: change.kind === 'license-deprovisioned' },
        ),
      ];
    case 'agreement-created':
    case 'agreement-amended':
    case 'agreement-ended': {
      const ids = change.kind === 'agreement-created' && change.previousAgreementId !== undefined ? [change.agreementId, change.previousAgreementId] : [change.agreementId];
      const ended = change.kind === 'agreement-ended' && !SUPERSEDED.has(change.status.toUpperCase());
      const customers = new Map<string, CustomerRecord>();
      for (const id of ids) for (const c of await customersOf(id)) if (contract(c.identity.productCode)) customers.set(c.key, c);
      return [...customers.values()].map((c) => signal(c.identity, { endSignal: ended }));
    }
    case 'legacy-entitlement-updated':
    case 'legacy-unsubscribe-pending':
    case 'legacy-unsubscribe-success': {
      if (!contract(change.productCode)) return [];
      const identity: CustomerIdentity = { kind: 'legacy', productCode: change.productCode, customerIdentifier: change.customerIdentifier };
      // A legacy contract cancelled before its ExpirationDate announces its end only with unsubscribe-*.
      return [signal(identity, change.kind === 'legacy-entitlement-updated' ? { endSignal: false, endIfExpired: true } : { endSignal: true })];
    }
    default:
      return [];
  }
}
