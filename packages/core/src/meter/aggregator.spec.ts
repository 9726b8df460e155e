import fc from 'fast-check';
import { AwsLimits } from '../model/limits';
import type { Product } from '../model/product';
import type { Tags } from '../model/usage';
import { tagsKey } from '../model/usage';
import { Aggregator } from './aggregator';
import type { BoundCustomer } from './bound-customer';

const H = 3_600_000;
const products: Product[] = [
  { productCode: 'prod-a', identity: 'license', dimensions: new Set(['api_calls', 'gb', 'seats']) },
  { productCode: 'prod-b', identity: 'license', dimensions: new Set(['api_calls']) },
];
function customer(product: Product, i: number): BoundCustomer {
  const licenseArn = `arn:aws:license-manager::1:license:l-${i}`;
  return { identity: { kind: 'license', licenseArn, customerAwsAccountId: '222222222222', productCode: product.productCode }, key: `${product.productCode}|${i}`, product };
}
const customers = products.flatMap((p) => [0, 1, 2].map((i) => customer(p, i)));
const TAGS: Array<Tags | undefined> = [undefined, undefined, { team: 'blue' }, { team: 'red', env: 'prod' }, { env: 'prod', team: 'red' }];

interface Add {
  readonly customer: number;
  readonly hour: number;
  readonly records: ReadonlyArray<{ dimension: number; quantity: number; tags: number }>;
}

/** The reference: a Map keyed by a string per (customer, hour, dimension, tag set), as sellers would write it. */
class Reference {
  readonly cells = new Map<string, number>();
  readonly totals = new Map<string, number>();
  add(c: BoundCustomer, hour: number, dimension: string, quantity: number, tags: Tags | undefined): boolean {
    const cell = `${c.key}|${hour}|${dimension}`;
    const total = this.totals.get(cell) ?? 0;
    if (total + quantity > AwsLimits.maxQuantity) return false;
    this.totals.set(cell, total + quantity);
    const key = `${cell}|${tagsKey(tags)}`;
    this.cells.set(key, (this.cells.get(key) ?? 0) + quantity);
    return true;
  }
}

const addArb: fc.Arbitrary<Add> = fc.record({
  customer: fc.integer({ min: 0, max: customers.length - 1 }),
  hour: fc.constantFrom(10 * H, 11 * H, 12 * H),
  records: fc.array(
    fc.record({
      dimension: fc.integer({ min: 0, max: 2 }),
      quantity: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(AwsLimits.maxQuantity - 3), fc.constant(AwsLimits.maxQuantity)),
      tags: fc.integer({ min: 0, max: TAGS.length - 1 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

describe('aggregator', () => {
  /**
   * Invariant: whatever the sequence of adds (customers of two products, hours, dimensions, tag sets, quantities
   * near AWS's maximum) and drains, each drain returns exactly the usage added since the previous one, per
   * (customer, hour, dimension, tag set), no cell twice, and refuses exactly the records that would push a cell
   * past the maximum; size counts the cells waiting.
   */
  it('drains exactly what was added, per cell, and refuses exactly what overflows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 8, arbitrary: addArb }, { weight: 1, arbitrary: fc.constant('drain' as const) }), { maxLength: 40 }), (steps) => {
        const aggregator = new Aggregator();
        let reference = new Reference();
        const check = () => {
          const cellsWaiting = new Set([...reference.cells.keys()].map((k) => k.split('|').slice(0, 4).join('|'))).size;
          expect(aggregator.size).toBe(cellsWaiting);
          const drained = aggregator.drain();
          const got = new Map<string, number>();
          for (const d of drained) {
            const key = `${d.customerKey}|${d.hour}|${d.dimension}|${d.tagsKey}`;
            expect(got.has(key)).toBe(false);
            expect(d.tagsKey).toBe(tagsKey(d.tags));
            expect(d.productCode).toBe(d.customer.productCode);
            got.set(key, d.quantity);
          }
          expect(got).toEqual(reference.cells);
          expect(aggregator.size).toBe(0);
          reference = new Reference();
        };
        for (const step of steps) {
          if (step === 'drain') {
            check();
            continue;
          }
          const c = customers[step.customer]!;
          const dimensions = [...c.product.dimensions];
          const records = step.records.map((r) => ({ ...r, dimension: dimensions[r.dimension % dimensions.length]! }));
          const refused = records.filter((r) => !reference.add(c, step.hour, r.dimension, r.quantity, TAGS[r.tags]));
          const tags = records.some((r) => TAGS[r.tags] !== undefined) ? records.map((r) => TAGS[r.tags]) : undefined;
          const overflow = aggregator.add(c, step.hour, records.map((r) => r.dimension), records.map((r) => r.quantity), tags, records.length);
          expect((overflow ?? []).map((o) => [o.dimension, o.quantity])).toEqual(refused.map((r) => [r.dimension, r.quantity]));
        }
        check();
      }),
      { seed: 20261207, numRuns: 300 },
    );
  });

  it('keeps a customer seen through two bound objects (the bind cache was renewed) in one cell', () => {
    const aggregator = new Aggregator();
    const a = customers[0]!;
    aggregator.add(a, 0, ['gb'], [2], undefined, 1);
    aggregator.add({ ...a }, 0, ['gb'], [3], undefined, 1);
    expect(aggregator.drain().map((d) => [d.customerKey, d.quantity])).toEqual([[a.key, 5]]);
  });
});
