import { resolve } from 'node:path';
import type { UsageStore } from '@meterkit/core';
import { UsageError, type Context } from './io';
import { openPostgresSchema } from './stores/postgres-schema';
import { openSqliteFile } from './stores/sqlite-file';

export const DEFAULT_STORE = 'sqlite:./meterkit.db';

export interface StoreOptions {
  readonly store?: string;
  readonly schema?: string;
  /** Create the store when it does not exist (an empty SQLite file, or the tables in the schema). Default false. */
  readonly create?: boolean;
}

/** `sqlite:<file>` or `postgres://…` (`postgresql://…`), from --store, then METERKIT_STORE, then the default. */
export function storeSpec(context: Context, options: StoreOptions): string {
  return options.store ?? context.env['METERKIT_STORE'] ?? DEFAULT_STORE;
}

/** Opens the store the app uses; one that does not exist is an error unless --create. The caller closes it. */
export async function openStore(context: Context, options: StoreOptions): Promise<UsageStore> {
  const spec = storeSpec(context, options);
  const create = options.create === true;
  if (/^postgres(ql)?:\/\//.test(spec)) return openPostgresSchema(spec, options.schema ?? 'public', create, context.env);
  if (spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length) {
    return openSqliteFile(resolve(context.cwd, spec.slice('sqlite:'.length)), create, context.cwd);
  }
  throw new UsageError(`--store must be sqlite:<file> or postgres://…, got ${JSON.stringify(redact(spec))}.`);
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
