import { ErrorCodes, MeterkitError } from '../errors';
import type { CustomerIdentity } from './customer';
import type { Product } from './product';
import { assertIdentity } from './validate-identity';

const licensed: Product = { productCode: 'prod-a', identity: 'license', dimensions: new Set(['d']) };
const legacy: Product = { productCode: 'prod-l', identity: 'legacy', dimensions: new Set(['d']) };
const arn = 'arn:aws:license-manager::123456789012:license:l-0123456789abcdef0123456789abcdef';

function fails(identity: unknown, product: Product): { code: string; awsException?: string } | undefined {
  try {
    assertIdentity(identity as CustomerIdentity, product);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(MeterkitError);
    return { code: (error as MeterkitError).code, awsException: (error as MeterkitError).awsException };
  }
}

describe('customer identity', () => {
  it('accepts a license with its account for a Concurrent Agreements product', () => {
    expect(fails({ kind: 'license', licenseArn: arn, customerAwsAccountId: '222222222222', productCode: 'prod-a' }, licensed)).toBeUndefined();
  });

  it('refuses a license ARN AWS would not accept', () => {
    expect(fails({ kind: 'license', licenseArn: 'license-123', customerAwsAccountId: '2', productCode: 'prod-a' }, licensed)).toEqual({
      code: ErrorCodes.INVALID_CUSTOMER,
      awsException: 'InvalidLicenseException',
    });
  });

  it('refuses a non-numeric account id', () => {
    expect(fails({ kind: 'license', licenseArn: arn, customerAwsAccountId: '12ab', productCode: 'prod-a' }, licensed)?.code).toBe(ErrorCodes.INVALID_CUSTOMER);
  });

  it('refuses a legacy identity for a license product and the reverse', () => {
    expect(fails({ kind: 'legacy', customerIdentifier: 'c1', productCode: 'prod-a' }, licensed)?.code).toBe(ErrorCodes.INVALID_CUSTOMER);
    expect(fails({ kind: 'license', licenseArn: arn, customerAwsAccountId: '2', productCode: 'prod-l' }, legacy)?.awsException).toBe(
      'InvalidCustomerIdentifierException',
    );
  });

  it('never accepts both CustomerIdentifier and account id for one legacy customer', () => {
    expect(fails({ kind: 'legacy', customerIdentifier: 'c1', customerAwsAccountId: '2', productCode: 'prod-l' }, legacy)?.code).toBe(
      ErrorCodes.INVALID_CUSTOMER,
    );
    expect(fails({ kind: 'legacy', productCode: 'prod-l' }, legacy)?.code).toBe(ErrorCodes.INVALID_CUSTOMER);
    expect(fails({ kind: 'legacy', customerIdentifier: 'c1', productCode: 'prod-l' }, legacy)).toBeUndefined();
    expect(fails({ kind: 'legacy', customerAwsAccountId: '222222222222', productCode: 'prod-l' }, legacy)).toBeUndefined();
  });

  it('refuses a customer of another product', () => {
    expect(fails({ kind: 'legacy', customerIdentifier: 'c1', productCode: 'prod-x' }, legacy)?.code).toBe(ErrorCodes.INVALID_CUSTOMER);
  });
});
