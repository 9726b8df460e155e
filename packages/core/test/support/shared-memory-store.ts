import { MemoryStore, type UsageStore } from '../../src';

/**
 * `count` handles on one MemoryStore, as app instances sharing a store would hold them: closing one handle
 * leaves the store open for the others.
 */
export function sharedMemoryStore(count: number): UsageStore[] {
  const shared = new MemoryStore();
  return Array.from(
    { length: count },
    () =>
      new Proxy(shared, {
        get(store, property, receiver) {
          if (property === 'close') return async () => undefined;
          const value: unknown = Reflect.get(store, property, receiver);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store) : value;
        },
      }),
  );
}
