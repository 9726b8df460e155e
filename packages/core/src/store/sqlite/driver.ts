import type BetterSqlite3 from 'better-sqlite3';
import { ErrorCodes, MeterkitError } from '../../errors';

/** better-sqlite3's Database class. */
export type SqliteDriver = typeof BetterSqlite3;

export const SQLITE_DRIVER_MISSING = 'the SQLite store needs better-sqlite3: npm install better-sqlite3@12';

/**
 * Loads better-sqlite3, an optional peer dependency (a native module), when a SQLite store opens: users of the
 * other stores never need it. Its absence is an ERR_METERKIT_STORE naming the install command.
 */
export function loadSqliteDriver(): SqliteDriver {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('better-sqlite3') as SqliteDriver;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const missing = (error as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND' && message.includes("'better-sqlite3'");
    throw new MeterkitError(ErrorCodes.STORE, missing ? SQLITE_DRIVER_MISSING : `The SQLite store could not load better-sqlite3: ${message}`, { cause: error });
  }
}
