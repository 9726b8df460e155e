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

/**
 * The model of drain(limit): usage is live (add() writes into it) or sealed (cut by seal(), or by a drain() that
 * found nothing sealed); each seal is a generation, drained oldest first. Keys are (customer, hour, dimension,
 * tag set); the overflow bound applies to the live cell only, as a sealed cell is no longer added to.
 */
interface DrainModel {
  live: Map<string, number>;
  liveTotals: Map<string, number>;
  /** Generation → delta key → quantity, oldest generation first. */
  sealed: Array<Map<string, number>>;
  added: number;
  drained: number;
}

const cellOf = (deltaKey: string) => deltaKey.split('|').slice(0, 4).join('|');
const cellsIn = (deltas: Iterable<string>) => new Set([...deltas].map(cellOf)).size;

function sealModel(m: DrainModel): void {
  if (m.live.size > 0) m.sealed.push(m.live);
  m.live = new Map();
  m.liveTotals = new Map();
}

function checkSizes(m: DrainModel, a: Aggregator): void {
  const sealedCells = m.sealed.reduce((sum, gen) => sum + cellsIn(gen.keys()), 0);
  expect(a.sealedSize).toBe(sealedCells);
  expect(a.size).toBe(sealedCells + cellsIn(m.live.keys()));
}

class AddCommand implements fc.Command<DrainModel, Aggregator> {
  constructor(readonly step: Add) {}
  check = () => true;
  run(m: DrainModel, a: Aggregator): void {
    const c = customers[this.step.customer]!;
    const dimensions = [...c.product.dimensions];
    const records = this.step.records.map((r) => ({ ...r, dimension: dimensions[r.dimension % dimensions.length]! }));
    const refused: typeof records = [];
    for (const r of records) {
      const cell = `${c.key}|${this.step.hour}|${r.dimension}`;
      const total = m.liveTotals.get(cell) ?? 0;
      if (total + r.quantity > AwsLimits.maxQuantity) {
        refused.push(r);
        continue;
      }
      m.liveTotals.set(cell, total + r.quantity);
      const key = `${cell}|${tagsKey(TAGS[r.tags])}`;
      m.live.set(key, (m.live.get(key) ?? 0) + r.quantity);
      m.added += r.quantity;
    }
    const tags = records.some((r) => TAGS[r.tags] !== undefined) ? records.map((r) => TAGS[r.tags]) : undefined;
    const overflow = a.add(c, this.step.hour, records.map((r) => r.dimension), records.map((r) => r.quantity), tags, records.length);
    expect((overflow ?? []).map((o) => [o.dimension, o.quantity])).toEqual(refused.map((r) => [r.dimension, r.quantity]));
    checkSizes(m, a);
  }
  toString = () => `add(${JSON.stringify(this.step)})`;
}

class SealCommand implements fc.Command<DrainModel, Aggregator> {
  check = () => true;
  run(m: DrainModel, a: Aggregator): void {
    a.seal();
    sealModel(m);
    checkSizes(m, a);
  }
  toString = () => 'seal()';
}

class DrainCommand implements fc.Command<DrainModel, Aggregator> {
  constructor(readonly limit: number) {}
  check = () => true;
  run(m: DrainModel, a: Aggregator): void {
    if (m.sealed.length === 0) sealModel(m);
    const waiting = m.sealed.reduce((sum, gen) => sum + gen.size, 0);
    const deltas = a.drain(this.limit);
    expect(deltas.length).toBe(Math.min(this.limit, waiting));
    for (const d of deltas) {
      expect(d.tagsKey).toBe(tagsKey(d.tags));
      const key = `${d.customerKey}|${d.hour}|${d.dimension}|${d.tagsKey}`;
      // Tables drain oldest first: the delta comes from the oldest generation still holding usage.
      const gen = m.sealed[0]!;
      expect(gen.get(key)).toBe(d.quantity);
      gen.delete(key);
      if (gen.size === 0) m.sealed.shift();
      m.drained += d.quantity;
    }
    checkSizes(m, a);
  }
  toString = () => `drain(${this.limit})`;
}

describe('aggregator: drain(limit)', () => {
  /**
   * Invariant: whatever interleaving of add(), seal() and drain(limit) with random limits, each drain takes
   * min(limit, sealed deltas) deltas of the oldest sealed usage, each exactly as added, none twice; usage added
   * meanwhile waits (never lost, never in a drain of an earlier cut); a final full drain returns the rest.
   */
  it('takes at most limit deltas per call, each delta exactly once, whatever is added between calls (model-based)', () => {
    const commands = [
      addArb.map((step) => new AddCommand(step)),
      fc.integer({ min: 1, max: 6 }).map((limit) => new DrainCommand(limit)),
      fc.constant(new SealCommand()),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        const model: DrainModel = { live: new Map(), liveTotals: new Map(), sealed: [], added: 0, drained: 0 };
        const aggregator = new Aggregator();
        fc.modelRun(() => ({ model, real: aggregator }), cmds);
        // Everything left, in as many calls as it takes.
        while (aggregator.size > 0) new DrainCommand(Number.MAX_SAFE_INTEGER).run(model, aggregator);
        expect(model.sealed).toEqual([]);
        expect(model.live.size).toBe(0);
        expect(model.drained).toBe(model.added);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves a tagged cell that a limit cut in two for the next call, and new usage of the same hour in a new cell', () => {
    const aggregator = new Aggregator();
    const a = customers[0]!;
    aggregator.add(a, 0, ['gb', 'gb', 'gb'], [1, 2, 3], [undefined, { team: 'blue' }, { team: 'red' }], 3);
    expect(aggregator.drain(2).map((d) => [d.tagsKey, d.quantity])).toEqual([['', 1], [tagsKey({ team: 'blue' }), 2]]);
    expect(aggregator.size).toBe(1);
    aggregator.add(a, 0, ['gb'], [5], undefined, 1);
    expect(aggregator.size).toBe(2);
    expect(aggregator.drain(5).map((d) => [d.tagsKey, d.quantity])).toEqual([[tagsKey({ team: 'red' }), 3]]);
    expect(aggregator.drain(5).map((d) => [d.tagsKey, d.quantity])).toEqual([['', 5]]);
    expect(aggregator.size).toBe(0);
  });
});
