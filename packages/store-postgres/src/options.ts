import { ErrorCodes, MeterkitError } from '@meterkit/core';
import { Pool } from 'pg';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`. The store opens its own pool and ends it on close(). */
  readonly connectionString?: string;
  /** A pool your app already has. The store uses it as is and never ends it. Give this or `connectionString`. */
  readonly pool?: Pool;
  /** Schema holding meterkit's tables; created on open() when missing. Default `'public'`. */
  readonly schema?: string;
  /** Connections of the pool the store opens from `connectionString`. Default 10. */
  readonly maxConnections?: number;
}

export interface ResolvedPostgresOptions {
  readonly pool: Pool;
  readonly ownsPool: boolean;
  readonly schema: string;
}

/** PostgreSQL truncates identifiers to 63 bytes: a longer name would silently address another schema. */
const MAX_IDENTIFIER_BYTES = 63;

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, message);
}

/** Validates the store options once and fills in the documented defaults. Throws ERR_METERKIT_OPTIONS. */
export function resolvePostgresOptions(options: PostgresStoreOptions | Pool | string): ResolvedPostgresOptions {
  if (typeof options === 'string') return resolvePostgresOptions({ connectionString: options });
  if (isPool(options)) return resolvePostgresOptions({ pool: options });
  if (options === null || typeof options !== 'object') fail('PostgresStore needs a connection string, a pg Pool or options.');
  const schema = options.schema ?? 'public';
  if (typeof schema !== 'string' || schema.length === 0 || Buffer.byteLength(schema) > MAX_IDENTIFIER_BYTES || schema.includes('\u0000')) {
    fail(`schema must be a PostgreSQL identifier of 1-${MAX_IDENTIFIER_BYTES} bytes, got ${JSON.stringify(schema)}.`);
  }
  if (options.pool !== undefined && options.connectionString !== undefined) {
    fail('PostgresStore takes either `pool` or `connectionString`, not both.');
  }
  if (options.pool !== undefined) {
    if (!isPool(options.pool)) fail('pool must be a pg Pool.');
    return { pool: options.pool, ownsPool: false, schema };
  }
  if (typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
    fail('PostgresStore needs `connectionString` or `pool`.');
  }
  const max = options.maxConnections ?? 10;
  if (!Number.isInteger(max) || max < 1 || max > 1000) fail(`maxConnections must be an integer between 1 and 1000, got ${String(max)}.`);
  const pool = new Pool({ connectionString: options.connectionString, max });
  // An idle connection that breaks emits 'error'; without a listener that would end the process. The next
  // query on the pool reports the failure to the caller instead.
  pool.on('error', () => undefined);
  return { pool, ownsPool: true, schema };
}

/** Duck-typed, so that a pool from another copy of pg is not mistaken for options. */
function isPool(value: unknown): value is Pool {
  const candidate = value as Partial<Pool> | null;
  return typeof candidate?.connect === 'function' && typeof candidate.query === 'function' && typeof candidate.end === 'function';
}
