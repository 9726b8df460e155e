import { ErrorCodes, isMeterkitError, MeterkitError } from '@meterkit/core';

const CAPACITY_ERRORS = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

export function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String((error as { name: unknown }).name) : undefined;
}

export function isConditionalFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** The DynamoDB error name and message: neither carries usage or customer identifiers. */
export function asStoreError(error: unknown, action: string): MeterkitError {
  if (isMeterkitError(error)) return error;
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  const capacity = name !== undefined && CAPACITY_ERRORS.has(name);
  return new MeterkitError(
    ErrorCodes.STORE,
    `DynamoDB store failed to ${action}${capacity ? ' (out of capacity after retries)' : ''}: ${message}`,
    { details: name === undefined ? {} : { awsError: name }, cause: error },
  );
}

export function closedError(): MeterkitError {
  return new MeterkitError(ErrorCodes.CLOSED, 'The DynamoDB store is closed');
}
