/**
 * Every error meterkit throws or emits is a MeterkitError with a stable `code`.
 * Where the error prevents an AWS exception, `awsException` names it.
 */
export const ErrorCodes = {
  OPTIONS: 'ERR_METERKIT_OPTIONS',
  UNKNOWN_PRODUCT: 'ERR_METERKIT_UNKNOWN_PRODUCT',
  UNKNOWN_DIMENSION: 'ERR_METERKIT_UNKNOWN_DIMENSION',
  QUANTITY_RANGE: 'ERR_METERKIT_QUANTITY_RANGE',
  QUANTITY_NOT_INTEGER: 'ERR_METERKIT_QUANTITY_NOT_INTEGER',
  QUANTITY_OVERFLOW: 'ERR_METERKIT_QUANTITY_OVERFLOW',
  INVALID_TAGS: 'ERR_METERKIT_INVALID_TAGS',
  INVALID_ALLOCATIONS: 'ERR_METERKIT_INVALID_ALLOCATIONS',
  INVALID_CUSTOMER: 'ERR_METERKIT_INVALID_CUSTOMER',
  UNKNOWN_CUSTOMER: 'ERR_METERKIT_UNKNOWN_CUSTOMER',
  CUSTOMER_INACTIVE: 'ERR_METERKIT_CUSTOMER_INACTIVE',
  TIMESTAMP: 'ERR_METERKIT_TIMESTAMP',
  CLOCK_SKEW: 'ERR_METERKIT_CLOCK_SKEW',
  TOTAL_CONFLICT: 'ERR_METERKIT_TOTAL_CONFLICT',
  TOKEN_MALFORMED: 'ERR_METERKIT_TOKEN_MALFORMED',
  TOKEN_INVALID: 'ERR_METERKIT_TOKEN_INVALID',
  TOKEN_EXPIRED: 'ERR_METERKIT_TOKEN_EXPIRED',
  REGISTRATION_FAILED: 'ERR_METERKIT_REGISTRATION_FAILED',
  REGISTRATION_HOOK: 'ERR_METERKIT_REGISTRATION_HOOK',
  STORE: 'ERR_METERKIT_STORE',
  STORE_SCHEMA: 'ERR_METERKIT_STORE_SCHEMA',
  NOT_PERSISTED: 'ERR_METERKIT_NOT_PERSISTED',
  CLOSED: 'ERR_METERKIT_CLOSED',
  AWS: 'ERR_METERKIT_AWS',
  AWS_CONFIGURATION: 'ERR_METERKIT_AWS_CONFIGURATION',
  RATE_LIMITED: 'ERR_METERKIT_RATE_LIMITED',
  LIFECYCLE_UNAUTHORIZED: 'ERR_METERKIT_LIFECYCLE_UNAUTHORIZED',
  LIFECYCLE_MALFORMED: 'ERR_METERKIT_LIFECYCLE_MALFORMED',
  LIFECYCLE_STALE: 'ERR_METERKIT_LIFECYCLE_STALE',
  LIFECYCLE_FUTURE: 'ERR_METERKIT_LIFECYCLE_FUTURE',
  SNS_TOPIC: 'ERR_METERKIT_SNS_TOPIC',
  CUSTOMER_CONFLICT: 'ERR_METERKIT_CUSTOMER_CONFLICT',
  SNS_SIGNATURE: 'ERR_METERKIT_SNS_SIGNATURE',
  ENTITLEMENT_PENDING: 'ERR_METERKIT_ENTITLEMENT_PENDING',
  NOT_ENTITLED: 'ERR_METERKIT_NOT_ENTITLED',
  PLATFORM_NOT_SUPPORTED: 'ERR_METERKIT_PLATFORM_NOT_SUPPORTED',
  PUBLIC_KEY_VERSION: 'ERR_METERKIT_PUBLIC_KEY_VERSION',
  ENTITLEMENT_REGION: 'ERR_METERKIT_ENTITLEMENT_REGION',
  ENTITLEMENT_SIGNATURE: 'ERR_METERKIT_ENTITLEMENT_SIGNATURE',
  ENTITLEMENT_FAILED: 'ERR_METERKIT_ENTITLEMENT_FAILED',
  /** A route needs a contract entitlement the buyer does not hold (or has used up). */
  ENTITLEMENT_REQUIRED: 'ERR_METERKIT_ENTITLEMENT_REQUIRED',
  /** A contract product's entitlements could not be read from AWS. */
  ENTITLEMENT_READ: 'ERR_METERKIT_ENTITLEMENT_READ',
  /** The request's product is not sold as a contract: it has no entitlements to check. */
  NOT_A_CONTRACT: 'ERR_METERKIT_NOT_A_CONTRACT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface MeterkitErrorOptions {
  /** The AWS exception this error prevents or reports, e.g. `InvalidUsageDimensionException`. */
  awsException?: string;
  /** Structured, non-secret context (never tokens, never full identifiers). */
  details?: Readonly<Record<string, unknown>>;
  cause?: unknown;
}

export class MeterkitError extends Error {
  readonly code: ErrorCode;
  readonly awsException?: string;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: MeterkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeterkitError';
    this.code = code;
    if (options.awsException !== undefined) this.awsException = options.awsException;
    if (options.details !== undefined) this.details = options.details;
  }
}

export function isMeterkitError(error: unknown, code?: ErrorCode): error is MeterkitError {
  return error instanceof MeterkitError && (code === undefined || error.code === code);
}
