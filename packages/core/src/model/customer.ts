/**
 * A customer is whatever AWS bills: a license under Concurrent Agreements (one AWS account can hold
 * several), or a legacy customer identifier of one product.
 */
export interface LicenseIdentity {
  readonly kind: 'license';
  readonly licenseArn: string;
  readonly customerAwsAccountId: string;
  /** The license's product, known from registration or a lifecycle event. */
  readonly productCode: string;
}

export interface LegacyIdentity {
  readonly kind: 'legacy';
  readonly productCode: string;
  /** Exactly one of customerIdentifier and customerAwsAccountId. */
  readonly customerIdentifier?: string;
  readonly customerAwsAccountId?: string;
}

/** AMI and container products: the running product itself is what AWS bills (MeterUsage). */
export interface ProductIdentity {
  readonly kind: 'product';
  readonly productCode: string;
  /** A product-level record names no buyer. */
  readonly customerAwsAccountId?: undefined;
}

export type CustomerIdentity = LicenseIdentity | LegacyIdentity | ProductIdentity;

/**
 * `registered`: resolved on the registration route; `active`: License Updated / subscribe-success;
 * `deprovisioning`: inside AWS's final-usage window; `inactive`: no usage accepted.
 */
export type CustomerStatus = 'registered' | 'active' | 'deprovisioning' | 'inactive';

export interface CustomerRecord {
  /** Stable key, see customerKey(). */
  readonly key: string;
  readonly identity: CustomerIdentity;
  readonly status: CustomerStatus;
  /** The app's own tenant id, linked by the registration hook or linkTenant(). */
  readonly tenantId?: string;
  readonly agreementId?: string;
  /** The metering region the customer was resolved in. */
  readonly region?: string;
  /**
   * A legacy customer registered by CustomerIdentifier: the AWS account id ResolveCustomer returned with it.
   * Usage named by this account id is metered as the identifier (one buyer-hour is never sent under both).
   */
  readonly customerAwsAccountId?: string;
  readonly registeredAt: number;
  readonly updatedAt: number;
  /**
   * When a deprovisioning customer's final usage must be sent by (ms epoch): finalUsageMs after the earliest event
   * that opened the window since the latest activation.
   */
  readonly finalUsageDeadline?: number;
  /** Times (ms epoch, ascending) of the events that opened the final-usage window since the latest activation. */
  readonly finalUsageOpenedAt?: readonly number[];
  /**
   * Time (ms epoch) of the newest activation (License Updated, subscribe-success) delivered, applied or not:
   * openers older than it belong to a window it closed.
   */
  readonly lastActivationAt?: number;
  /** The agreement's status as last reported (ACTIVE, CANCELLED, EXPIRED, RENEWED, REPLACED, ...). */
  readonly agreementStatus?: string;
  /** The agreement that renews or replaces this customer's agreement, once AWS announced it. */
  readonly successorAgreementId?: string;
  /** Time (ms epoch) of the newest lifecycle event applied, of any kind. */
  readonly lastEventAt?: number;
  /**
   * Time (ms epoch) of the newest status-changing lifecycle event applied (0: none): an older one cannot change the
   * status any more. Events that change no status (Agreement Amended, say) do not move it. Absent on records
   * written before it was kept: lastEventAt stands in.
   */
  readonly lastStatusEventAt?: number;
  /** Ids of the latest lifecycle events applied, to ignore redeliveries. */
  readonly recentEventIds?: readonly string[];
  /**
   * Assigned by the store on every write (1 when created, then +1); what a conditional write compares.
   * Absent on a record that was not read from a store. Ignored when written: the store sets it.
   */
  readonly version?: number;
}

/** The key under which a customer's usage and registry entry are stored. */
export function customerKey(identity: CustomerIdentity): string {
  if (identity.kind === 'license') return `license:${identity.licenseArn}`;
  if (identity.kind === 'product') return `product:${identity.productCode}`;
  return identity.customerIdentifier !== undefined
    ? `legacy:${identity.productCode}:customer:${identity.customerIdentifier}`
    : `legacy:${identity.productCode}:account:${identity.customerAwsAccountId}`;
}
