/**
 * AWS error names the emulator answers with, and their HTTP statuses.
 * 409 is set by the model on IdempotencyConflictException; 500 follows from the server fault;
 * every other modeled error is a client fault, which AWS JSON 1.1 answers with 400.
 */
export const MODELED_ERRORS = [
  'ThrottlingException',
  'InternalServiceErrorException',
  'DisabledApiException',
  'TimestampOutOfBoundsException',
  'InvalidUsageDimensionException',
  'InvalidTagException',
  'InvalidUsageAllocationsException',
  'InvalidCustomerIdentifierException',
  'InvalidLicenseException',
  'InvalidProductCodeException',
  'CustomerNotEntitledException',
  'DuplicateRequestException',
  'IdempotencyConflictException',
  'InvalidEndpointRegionException',
  'InvalidRegionException',
  'InvalidPublicKeyVersionException',
  'PlatformNotSupportedException',
  'ExpiredTokenException',
  'InvalidTokenException',
] as const;

export type ModeledErrorName = (typeof MODELED_ERRORS)[number];

/** Unmodeled names the emulator may answer with (the SDK maps them to its generic service exception). */
export const UNMODELED_ERRORS = ['ValidationException', 'SerializationException', 'UnknownOperationException', 'DryRunOperation'] as const;

export function statusFor(name: string): number {
  if (name === 'IdempotencyConflictException') return 409;
  if (name === 'InternalServiceErrorException') return 500;
  return 400;
}

/** The Entitlement Service's errors (AWS JSON 1.1: 500 for the server fault, 400 otherwise). */
export const ENTITLEMENT_ERRORS = ['InvalidParameterException', 'ThrottlingException', 'InternalServiceErrorException'] as const;

/** The Agreement API's errors and the statuses its model gives them. */
export const AGREEMENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
  InternalServerException: 500,
};

export function isKnownErrorName(name: string): boolean {
  return (
    (MODELED_ERRORS as readonly string[]).includes(name) ||
    (UNMODELED_ERRORS as readonly string[]).includes(name) ||
    (ENTITLEMENT_ERRORS as readonly string[]).includes(name) ||
    name in AGREEMENT_ERROR_STATUS
  );
}

/** An error answered to the client as `{"__type": name, "message": message}`. */
export class AwsError extends Error {
  readonly status: number;
  constructor(
    readonly errorName: string,
    message: string,
    status?: number,
    /** More members of the error body (e.g. the Agreement API's resourceId, resourceType). */
    readonly fields?: Record<string, unknown>,
  ) {
    super(message);
    this.name = errorName;
    this.status = status ?? statusFor(errorName);
  }
}
