import { ResolveCustomerCommand, type MarketplaceMeteringClient, type ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { classifyError, errorName } from '../aws/classify-error';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { mask } from '../logger';
import { customerKey, type CustomerIdentity, type CustomerRecord } from '../model/customer';
import type { Product } from '../model/product';
import { assertIdentity } from '../model/validate-identity';
import type { UsageStore } from '../store/usage-store';
import { backoffDelay, type RetryPolicy } from '../send/backoff';
import { updateCustomer } from '../lifecycle/update-customer';
import { registeredAccount } from './legacy-accounts';
import { assertTokenShape, tokenDigest } from './registration-token';
import { TokenCache } from './token-cache';

export interface RegistrationDeps {
  readonly client: MarketplaceMeteringClient;
  readonly store: UsageStore;
  readonly products: ReadonlyMap<string, Product>;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly retry: RetryPolicy;
  readonly region: () => Promise<string | undefined>;
  /**
   * Runs once the customer is stored, before the registration answers (contract products read their entitlements
   * here). When it throws, the registration fails with its error and the same token resolves again on the next try.
   */
  readonly afterResolve?: (customer: CustomerRecord) => Promise<void>;
}

/** Registration tokens resolve repeatedly for about 4 hours. */
const TOKEN_TTL_MS = 4 * 3_600_000;

/** Turns a registration token into a stored customer (ResolveCustomer), once per token. */
export class Registration {
  private readonly cache = new TokenCache<CustomerRecord>(TOKEN_TTL_MS, 10_000);

  constructor(private readonly d: RegistrationDeps) {}

  async resolve(token: unknown): Promise<CustomerRecord> {
    assertTokenShape(token);
    const digest = tokenDigest(token);
    const cached = this.cache.get(digest, this.d.clock());
    if (cached !== undefined) return cached;

    const output = await this.callResolveCustomer(token);
    const product = output.ProductCode === undefined ? undefined : this.d.products.get(output.ProductCode);
    if (product === undefined) {
      throw new MeterkitError(
        ErrorCodes.UNKNOWN_PRODUCT,
        'The registration token belongs to a product this app does not meter. Add it to `products` if it is yours.',
        { details: { productCode: output.ProductCode } },
      );
    }
    const identity = identityOf(output, product);
    assertIdentity(identity, product);

    const now = this.d.clock();
    const key = customerKey(identity);
    const region = await this.d.region().catch(() => undefined);
    // Conditional on the state read: a lifecycle event applied meanwhile is re-read, never written over.
    let firstTime = false;
    let customer!: CustomerRecord;
    await updateCustomer(this.d.store, key, (existing) => ({
      result: undefined,
      write: {
        ...existing,
        key,
        identity,
        status: existing?.status ?? 'registered',
        registeredAt: existing?.registeredAt ?? now,
        updatedAt: now,
        ...(region === undefined ? {} : { region }),
        ...registeredAccount(identity, output.CustomerAWSAccountId),
      },
      afterWrite: (written) => {
        firstTime = existing === undefined;
        customer = written;
      },
    }));
    if (this.d.afterResolve !== undefined) await this.d.afterResolve(customer);
    this.cache.set(digest, customer, now);
    this.d.logger.info({ customer: mask(key), productCode: product.productCode, firstTime }, 'buyer registered');
    this.d.events.emit('registered', { customer, firstTime });
    return customer;
  }

  private async callResolveCustomer(token: string): Promise<ResolveCustomerCommandOutput> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.d.client.send(new ResolveCustomerCommand({ RegistrationToken: token }));
      } catch (error) {
        const name = errorName(error);
        if (name === 'InvalidTokenException') {
          throw new MeterkitError(ErrorCodes.TOKEN_INVALID, 'AWS does not recognise this registration token. Start again from "Set up your account" in AWS Marketplace.', {
            awsException: name,
          });
        }
        if (name === 'ExpiredTokenException') {
          throw new MeterkitError(
            ErrorCodes.TOKEN_EXPIRED,
            'This registration link has expired. Return to AWS Marketplace and choose "Set up your account" again.',
            { awsException: name },
          );
        }
        if (classifyError(error) === 'retry' && attempt < this.d.retry.attempts) {
          await this.d.sleep(backoffDelay(this.d.retry, attempt));
          continue;
        }
        throw new MeterkitError(ErrorCodes.REGISTRATION_FAILED, `ResolveCustomer failed with ${name}; the buyer can retry the same link for a few hours.`, {
          awsException: name,
          cause: error,
        });
      }
    }
  }
}

/** The identity mode comes from the product's configuration, not from which fields AWS happened to return. */
function identityOf(output: ResolveCustomerCommandOutput, product: Product): CustomerIdentity {
  if (product.identity === 'license') {
    return {
      kind: 'license',
      licenseArn: output.LicenseArn ?? '',
      customerAwsAccountId: output.CustomerAWSAccountId ?? '',
      productCode: product.productCode,
    };
  }
  return output.CustomerIdentifier
    ? { kind: 'legacy', productCode: product.productCode, customerIdentifier: output.CustomerIdentifier }
    : { kind: 'legacy', productCode: product.productCode, customerAwsAccountId: output.CustomerAWSAccountId ?? '' };
}
