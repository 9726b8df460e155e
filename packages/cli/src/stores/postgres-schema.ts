import { PostgresStore } from '@meterkit/store-postgres';
import type { UsageStore } from '@meterkit/core';
import { Client } from 'pg';
import { UsageError } from '../io';
import { explainPostgresFailure } from './postgres-errors';
import { postgresTarget } from './postgres-target';

/** The table @meterkit/store-postgres keeps usage records in: its presence says the schema holds a meterkit store. */
const RECORDS_TABLE = 'meterkit_usage_records';
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * The app's PostgreSQL store. Its tables must exist unless `create` is set: the store's open() creates a
 * missing schema, so a mistyped --schema would otherwise show an empty ledger.
 */
export async function openPostgresSchema(
  connectionString: string,
  schema: string,
  create: boolean,
  env: Readonly<Record<string, string | undefined>>,
): Promise<UsageStore> {
  const target = postgresTarget(connectionString, env);
  if (!create) {
    const client = new Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', () => undefined);
    let found: boolean;
    try {
      await client.connect();
      const result = await client.query(
        `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, RECORDS_TABLE],
      );
      found = result.rowCount === 1;
    } catch (error) {
      throw explainPostgresFailure(error, target, schema);
    } finally {
      await client.end().catch(() => undefined);
    }
    if (!found) {
      throw new UsageError(
        `No meterkit tables in schema "${schema}" of database "${target.database}" at ${target.host}:${target.port}: ` +
          'check --store and --schema (the schema your app gives PostgresStore, default public), or add --create to create them.',
      );
    }
  }
  const store = new PostgresStore({ connectionString, schema, maxConnections: 2 });
  try {
    await store.open();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw explainPostgresFailure(error, target, schema);
  }
  return store;
}
