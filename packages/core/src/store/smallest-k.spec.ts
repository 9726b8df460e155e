import fc from 'fast-check';
import { smallestK } from './smallest-k';

describe('smallestK', () => {
  it('equals sorting everything and taking the first k (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 })), fc.integer({ min: 0, max: 30 }), (items, k) => {
        const compare = (a: number, b: number) => a - b;
        expect(smallestK(items, k, compare)).toEqual([...items].sort(compare).slice(0, k));
      }),
      { numRuns: 500 },
    );
  });
});
