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
  /**
   * How long opening a connection, or waiting for a free one of the pool, may take (pg `connectionTimeoutMillis`).
   * Default 5000. 0 waits forever. Applies to the pool the store opens; set it on a `pool` you pass yourself.
   */
  readonly connectionTimeoutMs?: number;
  /**
   * The server cancels a statement running longer (`statement_timeout`), including one waiting for a lock another
   * session holds. Default 10 000. 0 turns it off. Applies to the pool the store opens.
   */
  readonly statementTimeoutMs?: number;
  /**
   * The client gives up on a query whose answer does not arrive (pg `query_timeout`): the bound for a connection the
   * network stopped carrying, which the server's own timeouts cannot see. The connection is then discarded.
   * Default 15 000 (above `statementTimeoutMs`, so a statement the server cancels is reported as such). 0 turns it
   * off. Applies to the pool the store opens.
   */
  readonly queryTimeoutMs?: number;
  /**
   * The server ends a session left idle inside a transaction this long (`idle_in_transaction_session_timeout`),
   * releasing its locks. Default 30 000. 0 turns it off. Applies to the pool the store opens.
   */
  readonly idleInTransactionTimeoutMs?: number;
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
    const own = (['maxConnections', 'connectionTimeoutMs', 'statementTimeoutMs', 'queryTimeoutMs', 'idleInTransactionTimeoutMs'] as const).filter(
      (name) => options[name] !== undefined,
    );
    if (own.length > 0) fail(`${own.join(', ')} configure the pool the store opens: with your own \`pool\`, set them on it (pg connectionTimeoutMillis, statement_timeout, query_timeout, idle_in_transaction_session_timeout).`);
    return { pool: options.pool, ownsPool: false, schema };
  }
  if (typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
    fail('PostgresStore needs `connectionString` or `pool`.');
  }
  const max = options.maxConnections ?? 10;
  if (!Number.isInteger(max) || max < 1 || max > 1000) fail(`maxConnections must be an integer between 1 and 1000, got ${String(max)}.`);
  const timeouts = {
    connectionTimeoutMillis: timeout('connectionTimeoutMs', options.connectionTimeoutMs, 5000),
    statement_timeout: timeout('statementTimeoutMs', options.statementTimeoutMs, 10_000),
    query_timeout: timeout('queryTimeoutMs', options.queryTimeoutMs, 15_000),
    idle_in_transaction_session_timeout: timeout('idleInTransactionTimeoutMs', options.idleInTransactionTimeoutMs, 30_000),
  };
  // pg reads 0 as "no timeout" for the connection; for the others it leaves them out.
  const pool = new Pool({
    connectionString: options.connectionString,
    max,
    keepAlive: true,
    connectionTimeoutMillis: timeouts.connectionTimeoutMillis,
    ...(timeouts.statement_timeout === 0 ? {} : { statement_timeout: timeouts.statement_timeout }),
    ...(timeouts.query_timeout === 0 ? {} : { query_timeout: timeouts.query_timeout }),
    ...(timeouts.idle_in_transaction_session_timeout === 0 ? {} : { idle_in_transaction_session_timeout: timeouts.idle_in_transaction_session_timeout }),
  });
  // An idle connection that breaks emits 'error'; without a listener that would end the process. The next
  // query on the pool reports the failure to the caller instead.
  pool.on('error', () => undefined);
  return { pool, ownsPool: true, schema };
}

function timeout(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 3_600_000) fail(`${name} must be an integer between 0 and 3600000 (ms), got ${String(value)}.`);
  return value;
}

/** Duck-typed, so that a pool from another copy of pg is not mistaken for options. */
function isPool(value: unknown): value is Pool {
  const candidate = value as Partial<Pool> | null;
  return typeof candidate?.connect === 'function' && typeof candidate.query === 'function' && typeof candidate.end === 'function';
}
