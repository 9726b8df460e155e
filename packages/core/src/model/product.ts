/**
 * How usage is billed: per buyer in BatchMeterUsage records (`license`, `legacy`), or per running product
 * (`product`: AMI and container products, MeterUsage).
 */
export type IdentityMode = 'license' | 'legacy' | 'product';

/**
 * How the listing is priced (docs/contracts.md): `subscription` meters every dimension; `contract` sends no
 * metering and checks entitlements; `contract-with-consumption` checks entitlements and meters usage above them.
 */
export type PricingModel = 'subscription' | 'contract' | 'contract-with-consumption';

/** How a metered dimension's usage is included by an entitlement (contracts with consumption). */
export interface IncludedConfig {
  /** The entitlement (contract dimension API name) whose numeric value is included. Default: the metered dimension's name. */
  readonly entitlement?: string;
  /** `hour` (default): each UTC hour includes the entitlement's value; `month`: each UTC calendar month does. */
  readonly period?: 'hour' | 'month';
}

export interface ProductConfig {
  /** The product code from the AWS Marketplace listing. */
  productCode: string;
  /**
   * The metered dimension API names of the listing (case-sensitive). At least one, except for `pricing: 'contract'`,
   * where it must be empty: AWS accepts no metering records for a contract product.
   */
  dimensions: readonly string[];
  /**
   * `license` (default): Concurrent Agreements, records carry CustomerAWSAccountId + LicenseArn
   * (required for SaaS products created from June 1, 2026).
   * `legacy`: records carry CustomerIdentifier (or CustomerAWSAccountId) with the request's ProductCode.
   * `product`: AMI and container products: usage belongs to the running product and is sent with MeterUsage,
   * one call per dimension and hour, signed by the instance's or task's own role (docs/products.md).
   */
  identity?: IdentityMode;
  /** How the listing is priced. Default 'subscription' (metering only, no entitlements read). */
  pricing?: PricingModel;
  /** Contract products: the contract dimension API names GetEntitlements returns (what routes can require). Default none. */
  entitlements?: readonly string[];
  /**
   * `contract-with-consumption`: metered dimensions (of `dimensions`) whose usage an entitlement includes; only the
   * part above it is metered. Metered dimensions not listed here are pay-as-you-go in full. Default none.
   */
  included?: Readonly<Record<string, IncludedConfig>>;
}

/** A metered dimension whose usage an entitlement includes, resolved from `ProductConfig.included`. */
export interface IncludedAllowance {
  /** The metered dimension the part above the entitlement is added to. */
  readonly dimension: string;
  /** The entitlement whose numeric value each period includes. */
  readonly entitlement: string;
  readonly period: 'hour' | 'month';
}

export interface Product {
  readonly productCode: string;
  readonly identity: IdentityMode;
  /** The metered dimensions (empty for a contract product). */
  readonly dimensions: ReadonlySet<string>;
  /** Default 'subscription' where a Product is built by hand. */
  readonly pricing?: PricingModel;
  /** The contract dimensions routes can require (contract products). */
  readonly entitlements?: ReadonlySet<string>;
  /** By metered dimension: how its usage is included (contracts with consumption). */
  readonly included?: ReadonlyMap<string, IncludedAllowance>;
}

/** Whether the product is sold as a contract (with or without consumption): it has entitlements. */
export function isContract(product: Pick<Product, 'pricing'>): boolean {
  return product.pricing === 'contract' || product.pricing === 'contract-with-consumption';
}
