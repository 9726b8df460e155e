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
import { RegistrationDeadline, type CallDeadline } from './registration-deadline';
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
  /** The longest one registration takes (registrationTimeoutMs): AWS calls, retries and store writes together. */
  readonly timeoutMs: number;
  /** The bound of each AWS call (aws.callTimeoutMs): a retry starts only when the deadline leaves it this much. */
  readonly callTimeoutMs: number;
  /**
   * Runs once the customer is stored, before the registration answers (contract products read their entitlements
   * here, within `deadline`). When it throws, the registration fails with its error and the same token resolves
   * again on the next try.
   */
  readonly afterResolve?: (customer: CustomerRecord, deadline: CallDeadline) => Promise<void>;
}

/** Registration tokens resolve repeatedly for about 4 hours. */
const TOKEN_TTL_MS = 4 * 3_600_000;
/** Customers stored by a registration that never answered, remembered until one answers (oldest dropped first). */
const MAX_UNANNOUNCED = 10_000;

/**
 * Turns a registration token into a stored customer (ResolveCustomer), once per token, within the registration's
 * deadline. One registration per token runs at a time: a post of a token whose registration is running joins it.
 * A registration cut off by its deadline stores nothing after it (a late ResolveCustomer answer is dropped), caches
 * nothing and emits nothing; a customer it stored just before is announced (`firstTime: true`) by the next
 * registration of that customer on this instance that answers.
 */
export class Registration {
  private readonly cache = new TokenCache<CustomerRecord>(TOKEN_TTL_MS, 10_000);
  private readonly running = new Map<string, Promise<CustomerRecord>>();
  /** Keys of customers a registration created in the registry and no registration has announced yet. */
  private readonly unannounced = new Set<string>();

  constructor(private readonly d: RegistrationDeps) {}

  async resolve(token: unknown): Promise<CustomerRecord> {
    assertTokenShape(token);
    const digest = tokenDigest(token);
    const cached = this.cache.get(digest, this.d.clock());
    if (cached !== undefined) return cached;
    const joined = this.running.get(digest);
    if (joined !== undefined) return joined;

    const deadline = new RegistrationDeadline(this.d.timeoutMs, this.d.callTimeoutMs);
    const work = this.register(token, digest, deadline);
    const answer = deadline.race(work).finally(() => deadline.end());
    this.running.set(digest, answer);
    // Work cut off by the deadline still ends on its own (each step is bounded): the token stays taken until then.
    void work
      .catch(() => undefined)
      .finally(() => {
        if (this.running.get(digest) === answer) this.running.delete(digest);
      });
    return answer;
  }

  private async register(token: string, digest: string, deadline: RegistrationDeadline): Promise<CustomerRecord> {
    const output = await this.callResolveCustomer(token, deadline);
    deadline.check();
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
    deadline.check();
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
    if (firstTime) this.remember(key);
    deadline.check();
    if (this.d.afterResolve !== undefined) await this.d.afterResolve(customer, deadline);
    deadline.check();
    this.cache.set(digest, customer, now);
    const announced = this.unannounced.delete(key);
    this.d.logger.info({ customer: mask(key), productCode: product.productCode, firstTime: announced }, 'buyer registered');
    this.d.events.emit('registered', { customer, firstTime: announced });
    return customer;
  }

  private remember(key: string): void {
    this.unannounced.add(key);
    if (this.unannounced.size > MAX_UNANNOUNCED) this.unannounced.delete(this.unannounced.values().next().value!);
  }

  /** ResolveCustomer with retries; a retry starts only when the deadline leaves it its whole call bound. */
  private async callResolveCustomer(token: string, deadline: RegistrationDeadline): Promise<ResolveCustomerCommandOutput> {
    for (let attempt = 1; ; attempt++) {
      deadline.check();
      try {
        return await this.d.client.send(new ResolveCustomerCommand({ RegistrationToken: token }), { abortSignal: deadline.signal });
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
        deadline.check();
        const retry = classifyError(error) === 'retry' && attempt < this.d.retry.attempts;
        const delay = retry ? backoffDelay(this.d.retry, attempt) : 0;
        if (retry && deadline.leavesRoomFor(delay)) {
          await this.d.sleep(delay);
          if (deadline.leavesRoomFor(0)) continue;
        }
        const cut = retry ? ` after ${attempt} attempt${attempt > 1 ? 's' : ''} (no further attempt fits in ${deadline.describe()})` : '';
        throw new MeterkitError(ErrorCodes.REGISTRATION_FAILED, `ResolveCustomer failed with ${name}${cut}; the buyer can retry the same link for a few hours.`, {
          awsException: name,
          cause: error,
          ...(retry ? { details: { attempts: attempt, registrationTimeoutMs: deadline.timeoutMs } } : {}),
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
