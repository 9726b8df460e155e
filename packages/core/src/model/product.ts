/**
 * How usage is billed: per buyer in BatchMeterUsage records (`license`, `legacy`), or per running product
 * (`product`: AMI and container products, MeterUsage).
 */
export type IdentityMode = 'license' | 'legacy' | 'product';

export interface ProductConfig {
  /** The product code from the AWS Marketplace listing. */
  productCode: string;
  /** The dimension API names of the listing (case-sensitive). */
  dimensions: readonly string[];
  /**
   * `license` (default): Concurrent Agreements, records carry CustomerAWSAccountId + LicenseArn
   * (required for SaaS products created from June 1, 2026).
   * `legacy`: records carry CustomerIdentifier (or CustomerAWSAccountId) with the request's ProductCode.
   * `product`: AMI and container products: usage belongs to the running product and is sent with MeterUsage,
   * one call per dimension and hour, signed by the instance's or task's own role (docs/products.md).
   */
  identity?: IdentityMode;
}

export interface Product {
  readonly productCode: string;
  readonly identity: IdentityMode;
  readonly dimensions: ReadonlySet<string>;
}
