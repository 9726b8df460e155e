/** AWS Marketplace Metering Service limits (API model 2016-01-14, as documented in docs/aws-rules.md). */
export const AwsLimits = {
  maxQuantity: 2_147_483_647,
  dimensionMaxLength: 255,
  recordsPerBatch: 25,
  /** BatchMeterUsage requests must stay under 1 MB of serialized JSON. */
  maxRequestBytes: 1_000_000,
  maxAllocations: 2500,
  maxTagsPerAllocation: 5,
  /** The Seller Guide caps distinct tag keys across one record's allocations at 5 (the stricter reading). */
  maxTagKeysPerRecord: 5,
  tagKeyMaxLength: 100,
  tagValueMaxLength: 256,
  productCodeMaxLength: 255,
  customerIdentifierMaxLength: 255,
  accountIdMaxLength: 255,
  licenseArnMaxLength: 2048,
  /** BatchMeterUsage accepts records younger than 24 hours... */
  batchWindowMs: 24 * 3_600_000,
  /** ...and previous-month records only until this many hours into the 1st (UTC). */
  monthEndCutoffHours: 6,
  meterUsageWindowMs: 6 * 3_600_000,
  /** BatchMeterUsage and MeterUsage: requests per second per account and region. */
  requestsPerSecond: 10,
} as const;

export const HOUR_MS = 3_600_000;

/** Verbatim from the API model: ` -=` is an ASCII range (space to '='). */
export const TAG_PATTERN = /^[a-zA-Z0-9+ -=._:\/@]+$/;
export const PRODUCT_CODE_PATTERN = /^[-a-zA-Z0-9/=:_.@]*$/;
export const ACCOUNT_ID_PATTERN = /^[0-9]+$/;
export const LICENSE_ARN_PATTERN =
  /^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$/;
