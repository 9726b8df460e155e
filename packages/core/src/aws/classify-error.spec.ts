import { classifyError } from './classify-error';

function awsError(name: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

describe('error classification', () => {
  it.each(['ThrottlingException', 'InternalServiceErrorException'])('retries %s', (name) => {
    expect(classifyError(awsError(name, name === 'ThrottlingException' ? 400 : 500))).toBe('retry');
  });

  it('retries network failures and unknown 5xx answers', () => {
    expect(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('retry');
    expect(classifyError(awsError('SomethingNew', 503))).toBe('retry');
  });

  it.each([
    'TimestampOutOfBoundsException',
    'InvalidUsageDimensionException',
    'InvalidTagException',
    'InvalidUsageAllocationsException',
    'InvalidCustomerIdentifierException',
    'InvalidLicenseException',
  ])('isolates the bad record behind %s', (name) => {
    expect(classifyError(awsError(name, 400))).toBe('isolate');
  });

  it.each(['InvalidProductCodeException', 'DisabledApiException', 'AccessDeniedException', 'UnrecognizedClientException'])(
    'stops on the configuration error %s without blaming a record',
    (name) => {
      expect(classifyError(awsError(name, 400))).toBe('configuration');
    },
  );

  it('treats 403 answers as configuration', () => {
    expect(classifyError(awsError('Forbidden', 403))).toBe('configuration');
  });
});
