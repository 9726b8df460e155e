import { MemoryStore } from './memory-store';
import { SqliteStore } from './sqlite/sqlite-store';
import type { UsageStore } from './usage-store';

/** Turns the `store` option into a store: a UsageStore as is, 'memory', 'sqlite' or 'sqlite:<file>'. */
export function storeFromOption(option: UsageStore | string): UsageStore {
  if (typeof option !== 'string') return option;
  if (option === 'memory') return new MemoryStore();
  const path = option.startsWith('sqlite:') ? option.slice('sqlite:'.length) : undefined;
  return new SqliteStore(path === undefined ? {} : { path });
}
