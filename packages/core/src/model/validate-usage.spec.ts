import { ErrorCodes, MeterkitError } from '../errors';
import type { Product } from './product';
import { assertDimension, assertFrozenUsage, assertQuantity, assertTags, frozenUsageOf } from './validate-usage';

const product: Product = { productCode: 'prod-a', identity: 'license', dimensions: new Set(['api_calls']) };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MeterkitError);
    return (error as MeterkitError).code;
  }
  return undefined;
}

describe('usage validation', () => {
  it('accepts only the product\'s dimensions, case-sensitively', () => {
    expect(codeOf(() => assertDimension(product, 'api_calls'))).toBeUndefined();
    expect(codeOf(() => assertDimension(product, 'API_CALLS'))).toBe(ErrorCodes.UNKNOWN_DIMENSION);
    expect(codeOf(() => assertDimension(product, 42))).toBe(ErrorCodes.UNKNOWN_DIMENSION);
  });

  it('names the AWS exception an unknown dimension prevents', () => {
    try {
      assertDimension(product, 'nope');
    } catch (error) {
      expect((error as MeterkitError).awsException).toBe('InvalidUsageDimensionException');
    }
    expect.assertions(1);
  });

  it.each([
    [-1, ErrorCodes.QUANTITY_RANGE],
    [2_147_483_648, ErrorCodes.QUANTITY_RANGE],
    [1.5, ErrorCodes.QUANTITY_NOT_INTEGER],
    [Number.NaN, ErrorCodes.QUANTITY_NOT_INTEGER],
    [Number.POSITIVE_INFINITY, ErrorCodes.QUANTITY_NOT_INTEGER],
    ['3', ErrorCodes.QUANTITY_NOT_INTEGER],
  ])('refuses quantity %p with %s', (quantity, code) => {
    expect(codeOf(() => assertQuantity(quantity))).toBe(code);
  });

  it('accepts 0 and the maximum quantity', () => {
    expect(codeOf(() => assertQuantity(0))).toBeUndefined();
    expect(codeOf(() => assertQuantity(2_147_483_647))).toBeUndefined();
  });

  it.each([
    [{}, 'no tags'],
    [{ a: '1', b: '2', c: '3', d: '4', e: '5', f: '6' }, 'six tags'],
    [{ ['k'.repeat(101)]: 'v' }, 'a long key'],
    [{ k: 'v'.repeat(257) }, 'a long value'],
    [{ k: '' }, 'an empty value'],
    [{ 'k~': 'v' }, 'a character outside the tag alphabet'], [{ 'k>': 'v' }, 'a character just past the range space..='],
    [{ k: 'é' }, 'a non-ASCII value'],
    [['k', 'v'], 'an array'],
  ] as Array<[unknown, string]>)('refuses tags with %s (%s)', (tags) => {
    expect(codeOf(() => assertTags(tags))).toBe(ErrorCodes.INVALID_TAGS);
  });

  it('accepts the tag alphabet exactly as the API model writes it', () => {
    expect(codeOf(() => assertTags({ 'team.name:x/y@z': 'blue + green = 2' }))).toBeUndefined();
    expect(codeOf(() => assertTags({ k: 'a!"#$%&\'()*,-<' }))).toBeUndefined();
  });

  it('requires allocations to add up to the quantity', () => {
    expect(codeOf(() => assertFrozenUsage({ quantity: 5, allocations: [{ quantity: 2, tags: { t: 'a' } }, { quantity: 2 }] }))).toBe(
      ErrorCodes.INVALID_ALLOCATIONS,
    );
    expect(codeOf(() => assertFrozenUsage({ quantity: 4, allocations: [{ quantity: 2, tags: { t: 'a' } }, { quantity: 2 }] }))).toBeUndefined();
  });

  it('refuses repeated tag sets and a second untagged allocation', () => {
    expect(codeOf(() => assertFrozenUsage({ quantity: 2, allocations: [{ quantity: 1, tags: { t: 'a' } }, { quantity: 1, tags: { t: 'a' } }] }))).toBe(
      ErrorCodes.INVALID_ALLOCATIONS,
    );
    expect(codeOf(() => assertFrozenUsage({ quantity: 2, allocations: [{ quantity: 1 }, { quantity: 1 }] }))).toBe(ErrorCodes.INVALID_ALLOCATIONS);
  });

  it('refuses more than 5 distinct tag keys across a record', () => {
    const allocations = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => ({ quantity: 1, tags: { [k]: 'x' } }));
    expect(codeOf(() => assertFrozenUsage({ quantity: 6, allocations }))).toBe(ErrorCodes.INVALID_TAGS);
  });

  it('refuses more than 2500 allocations', () => {
    const allocations = Array.from({ length: 2501 }, (_, i) => ({ quantity: 1, tags: { n: String(i) } }));
    expect(codeOf(() => assertFrozenUsage({ quantity: 2501, allocations }))).toBe(ErrorCodes.INVALID_ALLOCATIONS);
  });

  it('sends a total with one untagged allocation as a plain record', () => {
    expect(frozenUsageOf(7, [{ quantity: 7 }])).toEqual({ quantity: 7, allocations: [] });
    expect(frozenUsageOf(7, undefined)).toEqual({ quantity: 7, allocations: [] });
  });
});
