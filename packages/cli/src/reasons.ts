/** What a stored reason means at AWS and what the seller does about it. */
export interface ReasonHelp {
  /** The AWS exception or BatchMeterUsage status the reason stands for. */
  readonly awsException: string;
  readonly fix: string;
}

const HELP: Readonly<Record<string, ReasonHelp>> = {
  InvalidUsageDimensionException: {
    awsException: 'InvalidUsageDimensionException',
    fix: 'Add the dimension to the product in the AWS Marketplace Management Portal (API names are case-sensitive) or fix its name in your app, then redrive.',
  },
  TimestampOutOfBoundsException: {
    awsException: 'TimestampOutOfBoundsException',
    fix: 'The hour left AWS’s window (24 h, 06:00 UTC on the 1st for last month): flush more often; the record cannot be sent any more.',
  },
  SubmissionWindowPassed: {
    awsException: 'TimestampOutOfBoundsException',
    fix: 'Not sent before the hour’s deadline: keep a flusher running (see `meterkit status`); bill the units outside AWS if needed.',
  },
  QuantityOverflow: {
    awsException: 'ValidationException (Quantity > 2147483647)',
    fix: 'One hour exceeded AWS’s maximum quantity: meter in a larger unit (e.g. thousands of calls).',
  },
  DuplicateRecord: {
    awsException: 'DuplicateRecord (status)',
    fix: 'AWS already holds another quantity for this customer, dimension and hour: the difference is not billed; find the other sender (another instance, store or region).',
  },
  DuplicateRecordOfIdenticalResend: {
    awsException: 'DuplicateRecord (status)',
    fix: 'Nothing to do: an identical resend after a lost answer; AWS holds the record once.',
  },
  CustomerNotSubscribed: {
    awsException: 'CustomerNotSubscribed (status)',
    fix: 'The buyer has no active subscription: check the agreement; once it is active again, redrive within the window.',
  },
  InvalidLicenseException: {
    awsException: 'InvalidLicenseException',
    fix: 'The license ARN or its account is wrong or not of this product: check the customer’s registration, then redrive.',
  },
  InvalidCustomerIdentifierException: {
    awsException: 'InvalidCustomerIdentifierException',
    fix: 'The customer identifier is unknown for this product: check the registration (ResolveCustomer), then redrive.',
  },
  InvalidProductCodeException: {
    awsException: 'InvalidProductCodeException',
    fix: 'The product code is unknown to AWS in this region: fix the products configuration or region, then redrive.',
  },
  InvalidUsageAllocationsException: {
    awsException: 'InvalidUsageAllocationsException',
    fix: 'Allocations do not add up or repeat a tag set: fix the tagging code.',
  },
  InvalidTagException: {
    awsException: 'InvalidTagException',
    fix: 'A tag key or value breaks AWS’s rules (at most 5 keys, allowed characters): fix the tags.',
  },
  ValidationException: {
    awsException: 'ValidationException',
    fix: 'AWS refused the record’s shape: upgrade meterkit or report the record; redrive after the fix.',
  },
  CustomerNotEntitledException: {
    awsException: 'CustomerNotEntitledException',
    fix: 'The customer is not entitled to the product: check the agreement, then redrive.',
  },
  ThrottlingException: {
    awsException: 'ThrottlingException',
    fix: 'Retried automatically; lower requestsPerSecond if it persists across instances.',
  },
  UnprocessedRecords: {
    awsException: 'UnprocessedRecords',
    fix: 'Retried automatically; nothing to do unless it stays pending near the deadline.',
  },
  InternalServiceErrorException: {
    awsException: 'InternalServiceErrorException',
    fix: 'Retried automatically; check the AWS Health Dashboard if it persists.',
  },
  AccessDeniedException: {
    awsException: 'AccessDeniedException',
    fix: 'Grant aws-marketplace:BatchMeterUsage to the role of the seller account, then redrive.',
  },
};

/** Help for a reason, or undefined for none. Unknown reasons are passed through as the AWS exception. */
export function reasonHelp(reason: string | undefined): ReasonHelp | undefined {
  if (reason === undefined) return undefined;
  return HELP[reason] ?? { awsException: reason, fix: 'See docs/errors.md and the AWS BatchMeterUsage reference.' };
}

/** Every reason with help, for `meterkit records --reasons`. */
export function knownReasons(): ReadonlyArray<readonly [string, ReasonHelp]> {
  return Object.entries(HELP);
}
