/**
 * The `k` smallest items by `compare`, in ascending order, in one pass: O(n log k) time and O(k) memory, where
 * sorting every item to take the first k costs O(n log n) and a copy of all n. Ties keep no particular order.
 */
export function smallestK<T>(items: Iterable<T>, k: number, compare: (a: T, b: T) => number): T[] {
  if (!(k >= 1)) return [];
  // A max-heap of the k smallest seen: its root is the largest of them, the one a smaller item replaces.
  const heap: T[] = [];
  const larger = (i: number, j: number) => compare(heap[i]!, heap[j]!) > 0;
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!larger(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
      continue;
    }
    if (compare(item, heap[0]!) >= 0) continue;
    heap[0] = item;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let top = i;
      if (left < heap.length && larger(left, top)) top = left;
      if (right < heap.length && larger(right, top)) top = right;
      if (top === i) break;
      swap(i, top);
      i = top;
    }
  }
  return heap.sort(compare);
}
