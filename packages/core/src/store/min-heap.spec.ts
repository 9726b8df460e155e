import fc from 'fast-check';
import { MinHeap } from './min-heap';

describe('MinHeap', () => {
  it('pops what was pushed, smallest first, whatever the order of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: -50, max: 50 }), { nil: undefined }), { maxLength: 200 }), (steps) => {
        const heap = new MinHeap<number>((a, b) => a - b);
        const model: number[] = [];
        for (const step of steps) {
          if (step === undefined) {
            model.sort((a, b) => a - b);
            expect(heap.pop()).toBe(model.shift());
          } else {
            heap.push(step);
            model.push(step);
          }
          expect(heap.size).toBe(model.length);
          expect(heap.peek()).toBe(model.length === 0 ? undefined : Math.min(...model));
        }
      }),
    );
  });
});
