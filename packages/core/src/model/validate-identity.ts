import { ErrorCodes, MeterkitError } from '../errors';
import type { CustomerIdentity } from './customer';
import { ACCOUNT_ID_PATTERN, AwsLimits, LICENSE_ARN_PATTERN } from './limits';
import type { Product } from './product';

function invalid(message: string, awsException: string): MeterkitError {
  return new MeterkitError(ErrorCodes.INVALID_CUSTOMER, message, { awsException });
}

function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= AwsLimits.accountIdMaxLength && ACCOUNT_ID_PATTERN.test(value);
}

/**
 * Checks a customer identity against its product's identity mode: Concurrent Agreements customers are a
 * license (CustomerAWSAccountId + LicenseArn), legacy ones a CustomerIdentifier or an account id, never both.
 */
export function assertIdentity(identity: CustomerIdentity, product: Product): void {
  if (identity.productCode !== product.productCode) {
    throw invalid(`Customer belongs to product ${identity.productCode}, not ${product.productCode}.`, 'InvalidLicenseException');
  }
  if (product.identity === 'product' || identity.kind === 'product') {
    if (product.identity !== 'product' || identity.kind !== 'product') {
      throw invalid(`Product ${product.productCode} is metered per ${product.identity === 'product' ? 'running product' : 'buyer'}: use ${product.identity === 'product' ? 'metering.productMeter()' : 'a buyer identity'}.`, 'InvalidProductCodeException');
    }
    return;
  }
  if (product.identity === 'license') {
    if (identity.kind !== 'license') {
      throw invalid(
        `Product ${product.productCode} meters Concurrent Agreements licenses: identify the customer by licenseArn + customerAwsAccountId.`,
        'InvalidLicenseException',
      );
    }
    if (
      typeof identity.licenseArn !== 'string' ||
      identity.licenseArn.length > AwsLimits.licenseArnMaxLength ||
      !LICENSE_ARN_PATTERN.test(identity.licenseArn)
    ) {
      throw invalid('licenseArn is not a License Manager ARN AWS accepts.', 'InvalidLicenseException');
    }
    if (!isAccountId(identity.customerAwsAccountId)) {
      throw invalid('customerAwsAccountId must be the buyer\'s AWS account id (digits only).', 'InvalidLicenseException');
    }
    return;
  }
  if (identity.kind !== 'legacy') {
    throw invalid(
      `Product ${product.productCode} uses legacy identity: identify the customer by customerIdentifier (or customerAwsAccountId).`,
      'InvalidCustomerIdentifierException',
    );
  }
  const hasIdentifier = identity.customerIdentifier !== undefined;
  const hasAccount = identity.customerAwsAccountId !== undefined;
  if (hasIdentifier === hasAccount) {
    throw invalid(
      'A legacy customer has exactly one of customerIdentifier and customerAwsAccountId.',
      'InvalidCustomerIdentifierException',
    );
  }
  if (hasIdentifier) {
    const id = identity.customerIdentifier;
    if (typeof id !== 'string' || id.length < 1 || id.length > AwsLimits.customerIdentifierMaxLength) {
      throw invalid(
        `customerIdentifier must be 1-${AwsLimits.customerIdentifierMaxLength} characters.`,
        'InvalidCustomerIdentifierException',
      );
    }
  } else if (!isAccountId(identity.customerAwsAccountId)) {
    throw invalid('customerAwsAccountId must be digits only.', 'InvalidCustomerIdentifierException');
  }
}
