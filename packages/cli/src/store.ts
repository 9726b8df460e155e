import { resolve } from 'node:path';
import { SqliteStore, type UsageStore } from '@meterkit/core';
import { PostgresStore } from '@meterkit/store-postgres';
import { UsageError, type Context } from './io';

export const DEFAULT_STORE = 'sqlite:./meterkit.db';

export interface StoreOptions {
  readonly store?: string;
  readonly schema?: string;
}

/** `sqlite:<file>` or `postgres://…` (`postgresql://…`), from --store, then METERKIT_STORE, then the default. */
export function storeSpec(context: Context, options: StoreOptions): string {
  return options.store ?? context.env['METERKIT_STORE'] ?? DEFAULT_STORE;
}

/** Opens the store the app uses. The caller closes it. */
export async function openStore(context: Context, options: StoreOptions): Promise<UsageStore> {
  const spec = storeSpec(context, options);
  let store: UsageStore;
  if (/^postgres(ql)?:\/\//.test(spec)) {
    store = new PostgresStore({ connectionString: spec, ...(options.schema === undefined ? {} : { schema: options.schema }), maxConnections: 2 });
  } else if (spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length) {
    store = new SqliteStore({ path: resolve(context.cwd, spec.slice('sqlite:'.length)) });
  } else {
    throw new UsageError(`--store must be sqlite:<file> or postgres://…, got ${JSON.stringify(redact(spec))}.`);
  }
  try {
    await store.open();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

/** Hides the password of a connection string. */
export function redact(spec: string): string {
  return spec.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** Runs `work` on an open store and closes it, whatever happens. */
export async function withStore<T>(context: Context, options: StoreOptions, work: (store: UsageStore) => Promise<T>): Promise<T> {
  const store = await openStore(context, options);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
