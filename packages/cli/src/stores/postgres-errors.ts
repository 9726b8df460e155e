import { isMeterkitError, ErrorCodes } from '@meterkit/core';
import { UsageError } from '../io';
import type { PostgresTarget } from './postgres-target';

interface PgFailure {
  readonly code?: string;
  readonly message: string;
}

/** The pg or network error behind a failure: the store wraps it as the MeterkitError's cause. Duck-typed: socket errors come from another realm under test runners. */
function pgFailure(error: unknown): PgFailure {
  let current = error as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, message } = current;
    if (typeof code === 'string' && !code.startsWith('ERR_METERKIT_')) return { code, message: typeof message === 'string' ? message : code };
    current = current.cause as typeof current;
  }
  const message = (error as { message?: unknown } | null)?.message;
  return { message: typeof message === 'string' ? message : String(error) };
}

/**
 * What failed when the CLI opened a PostgreSQL store, and what to do about it, as a UsageError.
 * A newer schema's MeterkitError already says what to do and is kept.
 */
export function explainPostgresFailure(error: unknown, target: PostgresTarget, schema: string): Error {
  if (isMeterkitError(error, ErrorCodes.STORE_SCHEMA)) return error;
  const { code, message } = pgFailure(error);
  const at = `${target.host}:${target.port}`;
  const user = target.user === undefined ? 'the default user' : `user ${target.user}`;
  switch (code) {
    case '28P01':
      return new UsageError(`PostgreSQL refused the login for ${user}: check the password in --store (or METERKIT_STORE).`);
    case '28000':
      return new UsageError(`PostgreSQL at ${at} refused ${user} (${message}): check the user name in --store, and the server's pg_hba.conf.`);
    case '3D000':
      return new UsageError(`PostgreSQL at ${at} has no database "${target.database}": check the database name in --store.`);
    case '42501':
      return new UsageError(
        `PostgreSQL ${user} lacks a privilege on schema "${schema}" (${message}): grant it, or give --schema a schema this user may use.`,
      );
    case '57P03':
    case '53300':
      return new UsageError(`PostgreSQL at ${at} does not take connections now (${message}): try again shortly.`);
    case 'ECONNREFUSED':
      return new UsageError(`Nothing accepts connections at ${at}: check the host and port in --store and that PostgreSQL is running.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(`The host "${target.host}" in --store cannot be resolved: check the host name.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UsageError(`PostgreSQL at ${at} cannot be reached (${code}): check the host and port in --store and the network between.`);
    default:
      if (/timeout/i.test(message)) {
        return new UsageError(`PostgreSQL at ${at} did not answer in time: check the host and port in --store and the network between.`);
      }
      if (/SSL/i.test(message)) return new UsageError(`PostgreSQL at ${at}: ${message}: check sslmode in --store.`);
      return new UsageError(`PostgreSQL at ${at} failed (${code === undefined ? message : `${message}, SQLSTATE ${code}`}): check --store and --schema.`);
  }
}
