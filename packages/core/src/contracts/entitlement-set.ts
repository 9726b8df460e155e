/** One dimension a buyer is entitled to, as GetEntitlements answered it. */
export interface DimensionEntitlement {
  /** The dimension API name. */
  readonly dimension: string;
  /** The one value AWS set: IntegerValue and DoubleValue as numbers. */
  readonly value: number | boolean | string;
  readonly valueType: 'integer' | 'double' | 'boolean' | 'string';
  /** ExpirationDate (ms epoch): the earliest the entitlement may end (the renewal date when it auto-renews), not a revoke time. */
  readonly expiresAt?: number;
}

/**
 * Everything one customer (a license, or a legacy customer identifier) of one product is entitled to, as one
 * complete GetEntitlements read: a newer read replaces it whole.
 */
export interface EntitlementSet {
  /** customerKey() of the customer. */
  readonly customerKey: string;
  readonly productCode: string;
  readonly entitlements: readonly DimensionEntitlement[];
  /** When GetEntitlements answered (ms epoch). A stored set is replaced only by one fetched later. */
  readonly fetchedAt: number;
  /** What caused the read: `registration`, `event:<event id>`, `timer`, `expiry`, `manual`. */
  readonly trigger: string;
  /**
   * True when the customer has no entitlements because an end signal (Agreement Ended, License Deprovisioned,
   * an SNS notification after expiry) came with an empty read. An empty read without one is kept as lag.
   */
  readonly revoked?: boolean;
}

/** What a request sees of one dimension: `meter.entitlement(dimension)`. */
export interface EntitlementView {
  readonly dimension: string;
  /** The entitled value; undefined when the buyer has none for this dimension. */
  readonly value: number | boolean | string | undefined;
  /** ExpirationDate (ms epoch), when AWS gave one. */
  readonly expiresAt?: number;
  /**
   * Whether the buyer is within the entitlement: it holds one (a true boolean, a non-empty string, a positive number)
   * and, for a dimension whose usage above it is metered, this period's usage has not used it up.
   */
  readonly within: boolean;
  /** For a dimension whose usage above the entitlement is metered: the period's usage this instance last read. */
  readonly used?: number;
  /** When the set was read from AWS (ms epoch); undefined when it was never read. */
  readonly fetchedAt?: number;
}
