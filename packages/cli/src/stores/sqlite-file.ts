import { statSync } from 'node:fs';
import { ErrorCodes, isMeterkitError, SqliteStore, type UsageStore } from '@meterkit/core';
import { UsageError } from '../io';

/**
 * The app's SQLite file, which must exist unless `create` is set: opening a mistyped path would otherwise
 * create an empty database and report an empty ledger.
 */
export async function openSqliteFile(path: string, create: boolean, cwd: string): Promise<UsageStore> {
  const found = statSync(path, { throwIfNoEntry: false });
  if (found?.isDirectory() === true) throw new UsageError(`${path} is a directory, not a SQLite file: check --store (or METERKIT_STORE).`);
  if (found === undefined && !create) {
    throw new UsageError(
      `No SQLite store at ${path}: check --store (or METERKIT_STORE; a relative path resolves from ${cwd}), ` +
        'or add --create to start an empty store there.',
    );
  }
  const store = new SqliteStore({ path });
  try {
    await store.open();
  } catch (error) {
    await store.close().catch(() => undefined);
    // A file written by a newer meterkit: the store's own message says to upgrade.
    if (isMeterkitError(error, ErrorCodes.STORE_SCHEMA)) throw error;
    throw new UsageError(`Could not open the SQLite store at ${path}: ${causeMessage(error)}. Check that it is the file your app uses and that it is readable and writable.`);
  }
  return store;
}

function causeMessage(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  const message = (cause as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(cause);
}
