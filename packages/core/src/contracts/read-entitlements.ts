import { GetEntitlementsCommand, type Entitlement, type GetEntitlementFilterName, type MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { classifyError, errorName } from '../aws/classify-error';
import { ErrorCodes, MeterkitError } from '../errors';
import type { CustomerIdentity } from '../model/customer';
import type { CallDeadline } from '../registration/registration-deadline';
import { backoffDelay, type RetryPolicy } from '../send/backoff';
import type { RateLimiter } from '../send/rate-limiter';
import type { DimensionEntitlement } from './entitlement-set';

export interface ReadEntitlementsDeps {
  readonly client: MarketplaceEntitlementServiceClient;
  /** Every page waits its turn here (AWS allows 20 GetEntitlements calls per second per account). */
  readonly limiter: Pick<RateLimiter, 'take'>;
  readonly retry: RetryPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  /** MaxResults of each page, 1 to 25. */
  readonly pageSize: number;
  /**
   * A registration's deadline: each call is cut off when it passes, and a call (first or retry) starts only when it
   * leaves the call its whole aws.callTimeoutMs.
   */
  readonly deadline?: CallDeadline;
}

/** A read stops after this many pages: a service that keeps answering with a token is a fault, not a long list. */
const MAX_PAGES = 1000;

/**
 * The GetEntitlements filter naming one customer: LICENSE_ARN for a license (Concurrent Agreements), CUSTOMER_IDENTIFIER
 * or CUSTOMER_AWS_ACCOUNT_ID for a legacy customer (the two are exclusive in one request).
 */
export function entitlementFilter(identity: CustomerIdentity): Partial<Record<GetEntitlementFilterName, string[]>> {
  if (identity.kind === 'license') return { LICENSE_ARN: [identity.licenseArn] };
  if (identity.kind === 'legacy') {
    return identity.customerIdentifier !== undefined
      ? { CUSTOMER_IDENTIFIER: [identity.customerIdentifier] }
      : { CUSTOMER_AWS_ACCOUNT_ID: [identity.customerAwsAccountId!] };
  }
  throw new MeterkitError(ErrorCodes.NOT_A_CONTRACT, 'A product-level meter (AMI or container product) has no contract entitlements.');
}

/**
 * Everything the customer is entitled to for the product: every page followed to its end (an empty page may still
 * carry a NextToken), ThrottlingException, InternalServiceErrorException and network faults retried with full-jitter
 * backoff. Throws ERR_METERKIT_ENTITLEMENT_READ when AWS refuses the request or the retries run out.
 */
export async function readEntitlements(d: ReadEntitlementsDeps, productCode: string, identity: CustomerIdentity): Promise<DimensionEntitlement[]> {
  const Filter = entitlementFilter(identity);
  const found = new Map<string, DimensionEntitlement>();
  let NextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const output = await readPage(d, { ProductCode: productCode, Filter, MaxResults: d.pageSize, ...(NextToken === undefined ? {} : { NextToken }) });
    for (const entry of output.Entitlements ?? []) {
      const parsed = parseEntitlement(entry, productCode);
      if (parsed !== undefined) found.set(parsed.dimension, parsed);
    }
    NextToken = output.NextToken === undefined || output.NextToken === '' ? undefined : output.NextToken;
    if (NextToken === undefined) return [...found.values()].sort((a, b) => (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : 0));
  }
  throw new MeterkitError(ErrorCodes.ENTITLEMENT_READ, `GetEntitlements kept answering with a NextToken after ${MAX_PAGES} pages; the read was abandoned.`, {
    details: { productCode },
  });
}

async function readPage(d: ReadEntitlementsDeps, input: GetEntitlementsCommand['input']) {
  const deadline = d.deadline;
  for (let attempt = 1; ; attempt++) {
    await d.limiter.take();
    if (deadline !== undefined && !deadline.leavesRoomFor(0)) {
      throw new MeterkitError(
        ErrorCodes.ENTITLEMENT_READ,
        `GetEntitlements was not ${attempt > 1 ? 'retried' : 'called'}: what is left of ${deadline.describe()} is less than one call's bound (aws.callTimeoutMs); the stored entitlements stay.`,
        { details: { productCode: input.ProductCode, attempts: attempt - 1 } },
      );
    }
    try {
      return await d.client.send(new GetEntitlementsCommand(input), deadline === undefined ? undefined : { abortSignal: deadline.signal });
    } catch (error) {
      const name = errorName(error);
      if (classifyError(error) === 'retry' && attempt < d.retry.attempts) {
        const delay = backoffDelay(d.retry, attempt);
        if (deadline === undefined || deadline.leavesRoomFor(delay)) {
          await d.sleep(delay);
          continue;
        }
      }
      throw new MeterkitError(ErrorCodes.ENTITLEMENT_READ, `GetEntitlements failed with ${name}${attempt > 1 ? ` after ${attempt} attempts` : ''}; the stored entitlements stay.`, {
        awsException: name,
        details: { productCode: input.ProductCode },
        cause: error,
      });
    }
  }
}

/** One entitlement as meterkit keeps it; undefined for an entry of another product or without a dimension or value. */
export function parseEntitlement(entry: Entitlement, productCode: string): DimensionEntitlement | undefined {
  if (entry.ProductCode !== undefined && entry.ProductCode !== productCode) return undefined;
  const dimension = entry.Dimension;
  const v = entry.Value;
  if (typeof dimension !== 'string' || dimension.length === 0 || v === undefined) return undefined;
  const expires = entry.ExpirationDate instanceof Date ? entry.ExpirationDate.getTime() : undefined;
  const expiry = expires !== undefined && Number.isFinite(expires) ? { expiresAt: expires } : {};
  if (typeof v.IntegerValue === 'number') return { dimension, value: v.IntegerValue, valueType: 'integer', ...expiry };
  if (typeof v.DoubleValue === 'number') return { dimension, value: v.DoubleValue, valueType: 'double', ...expiry };
  if (typeof v.BooleanValue === 'boolean') return { dimension, value: v.BooleanValue, valueType: 'boolean', ...expiry };
  if (typeof v.StringValue === 'string') return { dimension, value: v.StringValue, valueType: 'string', ...expiry };
  return undefined;
}
