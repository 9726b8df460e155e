/** How a product's buyers are identified in BatchMeterUsage records. */
export type IdentityMode = 'license' | 'legacy';

export interface ProductConfig {
  /** The product code from the AWS Marketplace listing. */
  productCode: string;
  /** The dimension API names of the listing (case-sensitive). */
  dimensions: readonly string[];
  /**
   * `license` (default): Concurrent Agreements, records carry CustomerAWSAccountId + LicenseArn
   * (required for SaaS products created from June 1, 2026).
   * `legacy`: records carry CustomerIdentifier (or CustomerAWSAccountId) with the request's ProductCode.
   */
  identity?: IdentityMode;
}

export interface Product {
  readonly productCode: string;
  readonly identity: IdentityMode;
  readonly dimensions: ReadonlySet<string>;
}
