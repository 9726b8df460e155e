import { ErrorCodes, MeterkitError } from '../errors';
import type { Product } from '../model/product';
import { assertDimension, assertQuantity, assertTags } from '../model/validate-usage';
import type { CustomerIdentity } from '../model/customer';
import type { Tags } from '../model/usage';
import type { BoundCustomer } from './bound-customer';
import type { EntitlementView } from '../contracts/entitlement-set';
import { entitlementView, type MeterEntitlements } from '../contracts/entitlement-view';

/** What commit() answers when nothing is left to wait for: callers can tell it needs no handler. */
export const COMMITTED: Promise<void> = Promise.resolve();

export interface RecordOptions {
  /** Allocation tags for cost allocation (1..5 tags); usage without tags goes to the untagged allocation. */
  readonly tags?: Tags;
}

/** Where a request meter delivers its records on commit. */
export interface MeterSink {
  commit(
    customer: BoundCustomer,
    hour: number,
    dimensions: readonly string[],
    quantities: readonly number[],
    tags: ReadonlyArray<Tags | undefined> | undefined,
    count: number,
  ): Promise<void>;
}

/**
 * Collects one request's usage for one customer. The customer and the UTC hour are bound when the meter
 * is created; record() validates and buffers, commit() hands everything to the aggregate in one step.
 * A meter can be committed more than once: each commit takes what was recorded since the last one.
 */
export class RequestMeter {
  /** Created by the first record(): a meter that records nothing (a route declaring no usage) allocates no arrays. */
  private dimensions: string[] | undefined = undefined;
  private quantities: number[] | undefined = undefined;
  private tags: Array<Tags | undefined> | undefined = undefined;
  private count = 0;

  /** @internal Meters come from `Metering.meterFor()`, `tryMeter()` and `meter()`. */
  constructor(
    private readonly sink: MeterSink,
    private readonly bound: BoundCustomer,
    /** Start of the UTC hour this meter records into. */
    readonly hour: number,
    /** Contract customers: the entitlements and allowance counters read when the meter was resolved. */
    private readonly contract?: MeterEntitlements,
  ) {}

  get customer(): CustomerIdentity {
    return this.bound.identity;
  }

  get customerKey(): string {
    return this.bound.key;
  }

  /** Records waiting for commit(). */
  get pending(): number {
    return this.count;
  }

  /**
   * Records `quantity` (default 1) units of `dimension`. Throws a MeterkitError for a dimension the product
   * does not have, a quantity that is not a whole number in 0..2147483647, or invalid tags. Usage of a dimension
   * an entitlement includes (contracts with consumption) takes no tags: ERR_METERKIT_INVALID_TAGS.
   */
  record(dimension: string, quantity = 1, options?: RecordOptions): this {
    assertDimension(this.bound.product, dimension);
    assertQuantity(quantity);
    const index = this.count;
    if (options?.tags !== undefined) {
      assertTags(options.tags);
      assertUntaggedIfIncluded(this.bound.product, dimension);
      this.tags ??= new Array<Tags | undefined>(index);
      this.tags[index] = options.tags;
    } else if (this.tags !== undefined) {
      this.tags[index] = undefined;
    }
    const dimensions = this.dimensions;
    if (dimensions === undefined) {
      // Sized for the one record most requests make; later records grow them.
      this.dimensions = [dimension];
      this.quantities = [quantity];
    } else {
      dimensions[index] = dimension;
      this.quantities![index] = quantity;
    }
    this.count = index + 1;
    return this;
  }

  /**
   * Adds the recorded usage to the customer's hourly aggregates. Resolves at once with interval durability,
   * or once the usage is in the store with sync durability. Never rejects because the store is down.
   */
  commit(): Promise<void> {
    const count = this.count;
    if (count === 0) return COMMITTED;
    this.count = 0;
    const tags = this.tags;
    this.tags = undefined;
    return this.sink.commit(this.bound, this.hour, this.dimensions!, this.quantities!, tags, count);
  }

  /**
   * The buyer's entitlement to one contract dimension (its API name), as stored when this meter was resolved: the
   * value, its expiry, and whether the buyer is within it. Throws ERR_METERKIT_NOT_A_CONTRACT for a product sold as
   * a subscription, ERR_METERKIT_UNKNOWN_DIMENSION for a dimension the product's `entitlements` do not list.
   */
  entitlement(dimension: string): EntitlementView {
    return entitlementView(this.bound.product, this.contract, dimension, this.hour);
  }

  /** Drops what was recorded since the last commit (e.g. the request failed). */
  discard(): void {
    this.count = 0;
    this.tags = undefined;
  }
}

/**
 * Only the part of an included dimension's usage above the entitlement is metered, and which tags that part
 * belongs to cannot be told: the store counts the period's usage as a whole. Tagged usage of it is refused.
 */
function assertUntaggedIfIncluded(product: Product, dimension: string): void {
  const allowance = product.included?.get(dimension);
  if (allowance === undefined) return;
  throw new MeterkitError(
    ErrorCodes.INVALID_TAGS,
    `Dimension ${JSON.stringify(dimension)} of product ${product.productCode} is included by the entitlement ` +
      `${JSON.stringify(allowance.entitlement)}: only usage above it is metered, and that part cannot be split by tags. ` +
      'Record it without tags.',
    { details: { productCode: product.productCode, dimension, entitlement: allowance.entitlement } },
  );
}
