import { ErrorCodes, MeterkitError } from '../errors';
import { AwsLimits, TAG_PATTERN } from './limits';
import type { Product } from './product';
import type { Allocation, FrozenUsage, Tags } from './usage';
import { tagsKey } from './usage';

export function assertDimension(product: Product, dimension: unknown): asserts dimension is string {
  if (typeof dimension === 'string' && product.dimensions.has(dimension)) return;
  const shown = typeof dimension === 'string' ? JSON.stringify(dimension.slice(0, 64)) : typeof dimension;
  if (product.pricing === 'contract') {
    throw new MeterkitError(
      ErrorCodes.UNKNOWN_DIMENSION,
      `Product ${product.productCode} is sold as a contract: contract products send no metering records, so ${shown} cannot be recorded. ` +
        'Check entitlements with meter.entitlement() instead.',
      { awsException: 'InvalidUsageDimensionException', details: { productCode: product.productCode } },
    );
  }
  throw new MeterkitError(
    ErrorCodes.UNKNOWN_DIMENSION,
    `Dimension ${shown} is not one of product ${product.productCode}'s dimensions ` +
      `(${[...product.dimensions].join(', ')}). Use the dimension API name exactly as listed.`,
    { awsException: 'InvalidUsageDimensionException', details: { productCode: product.productCode } },
  );
}

export function assertQuantity(quantity: unknown, what = 'Quantity'): asserts quantity is number {
  if (typeof quantity !== 'number' || !Number.isInteger(quantity)) {
    throw new MeterkitError(
      ErrorCodes.QUANTITY_NOT_INTEGER,
      `${what} must be a whole number of units, got ${typeof quantity === 'number' ? quantity : typeof quantity}. ` +
        'Round fractional usage to the unit your dimension is priced in.',
    );
  }
  if (quantity < 0 || quantity > AwsLimits.maxQuantity) {
    throw new MeterkitError(
      ErrorCodes.QUANTITY_RANGE,
      `${what} must be between 0 and ${AwsLimits.maxQuantity}, got ${quantity}.`,
    );
  }
}

function tagError(message: string): MeterkitError {
  return new MeterkitError(ErrorCodes.INVALID_TAGS, message, { awsException: 'InvalidTagException' });
}

/** Validates one allocation's tags: 1..5 tags, key 1..100 and value 1..256 characters of AWS's tag alphabet. */
export function assertTags(tags: unknown): asserts tags is Tags {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
    throw tagError('Tags must be an object of tag keys to values, e.g. { team: "blue" }.');
  }
  const keys = Object.keys(tags);
  if (keys.length < 1 || keys.length > AwsLimits.maxTagsPerAllocation) {
    throw tagError(`An allocation carries 1 to ${AwsLimits.maxTagsPerAllocation} tags, got ${keys.length}.`);
  }
  for (const key of keys) {
    const value = (tags as Record<string, unknown>)[key];
    if (key.length < 1 || key.length > AwsLimits.tagKeyMaxLength || !TAG_PATTERN.test(key)) {
      throw tagError(
        `Tag key ${JSON.stringify(key.slice(0, 40))} must be 1-${AwsLimits.tagKeyMaxLength} characters of [a-zA-Z0-9+ -=._:/@].`,
      );
    }
    if (typeof value !== 'string' || value.length < 1 || value.length > AwsLimits.tagValueMaxLength || !TAG_PATTERN.test(value)) {
      throw tagError(
        `Tag ${JSON.stringify(key)} needs a value of 1-${AwsLimits.tagValueMaxLength} characters of [a-zA-Z0-9+ -=._:/@].`,
      );
    }
  }
}

function allocationError(message: string): MeterkitError {
  return new MeterkitError(ErrorCodes.INVALID_ALLOCATIONS, message, {
    awsException: 'InvalidUsageAllocationsException',
  });
}

/**
 * Validates a complete record's usage as AWS will judge it: allocations sum to the quantity, 1..2500 of them,
 * each tag set unique, at most one untagged allocation, at most 5 distinct tag keys across the record.
 */
export function assertFrozenUsage(usage: FrozenUsage): void {
  assertQuantity(usage.quantity);
  if (usage.allocations.length === 0) return;
  if (usage.allocations.length > AwsLimits.maxAllocations) {
    throw allocationError(`A record carries at most ${AwsLimits.maxAllocations} allocations, got ${usage.allocations.length}.`);
  }
  const seen = new Set<string>();
  const keys = new Set<string>();
  let sum = 0;
  for (const allocation of usage.allocations) {
    assertQuantity(allocation.quantity, 'Allocated quantity');
    if (allocation.tags !== undefined) {
      assertTags(allocation.tags);
      for (const key of Object.keys(allocation.tags)) keys.add(key);
    }
    const key = tagsKey(allocation.tags);
    if (seen.has(key)) {
      throw allocationError(
        allocation.tags === undefined
          ? 'At most one allocation may be untagged: merge untagged usage into one allocation.'
          : 'Two allocations have the same tag set: merge them into one allocation.',
      );
    }
    seen.add(key);
    sum += allocation.quantity;
  }
  if (keys.size > AwsLimits.maxTagKeysPerRecord) {
    throw tagError(`A record's allocations may use at most ${AwsLimits.maxTagKeysPerRecord} distinct tag keys, got ${keys.size}.`);
  }
  if (sum !== usage.quantity) {
    throw allocationError(`Allocations add up to ${sum} but the quantity is ${usage.quantity}: they must be equal.`);
  }
}

/** Builds FrozenUsage from a quantity and optional allocations given by the seller. */
export function frozenUsageOf(quantity: number, allocations: readonly Allocation[] | undefined): FrozenUsage {
  const usage: FrozenUsage = { quantity, allocations: allocations ?? [] };
  assertFrozenUsage(usage);
  const onlyUntagged = usage.allocations.length === 1 && usage.allocations[0]!.tags === undefined;
  return onlyUntagged ? { quantity, allocations: [] } : usage;
}
