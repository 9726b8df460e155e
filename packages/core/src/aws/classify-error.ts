/**
 * What to do about an error from a metering call. No metering error is marked retryable in AWS's model,
 * so meterkit classifies them itself (docs/aws-rules.md, "Results and errors").
 */
export type ErrorClass =
  /** Throttling, AWS faults, network trouble: back off and resend the identical records. */
  | 'retry'
  /** Wrong product code, disabled API, credentials: no record is at fault; stop and alert. */
  | 'configuration'
  /** A record in the call is bad: isolate it by splitting the batch. */
  | 'isolate';

const RETRY = new Set(['ThrottlingException', 'InternalServiceErrorException', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError']);

const CONFIGURATION = new Set([
  'InvalidProductCodeException',
  'DisabledApiException',
  'InvalidEndpointRegionException',
  'InvalidRegionException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);

const ISOLATE = new Set([
  'TimestampOutOfBoundsException',
  'InvalidUsageDimensionException',
  'InvalidTagException',
  'InvalidUsageAllocationsException',
  'InvalidCustomerIdentifierException',
  'InvalidLicenseException',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function errorName(error: unknown): string {
  const e = error as ErrorLike | undefined;
  if (e && typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (e && typeof e.code === 'string') return e.code;
  return 'UnknownError';
}

export function classifyError(error: unknown): ErrorClass {
  const name = errorName(error);
  if (RETRY.has(name)) return 'retry';
  if (CONFIGURATION.has(name)) return 'configuration';
  if (ISOLATE.has(name)) return 'isolate';
  const e = error as ErrorLike | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.$fault === 'server' || (status !== undefined && status >= 500)) return 'retry';
  if (status === 401 || status === 403) return 'configuration';
  if (e?.$fault === 'client' && status !== undefined && status >= 400 && status < 500) return 'isolate';
  // No answer from AWS at all (connection reset, DNS, timeout): the call may or may not have landed; resend.
  return 'retry';
}
