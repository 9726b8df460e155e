import type { Pool, PoolClient } from 'pg';

/** Deadlock and serialization failures roll the whole transaction back: running it again is safe. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

export type Isolation = 'READ COMMITTED' | 'REPEATABLE READ READ ONLY';

/** Runs `work` in one transaction on one pooled connection, retrying it after a deadlock or serialization failure. */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  isolation: Isolation = 'READ COMMITTED',
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    // A connection that breaks while checked out emits 'error' on the client; unheard, it would end the process.
    // The failing query rejects too, so the error is reported there; the listener only marks the client broken.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      if (attempt < ATTEMPTS && RETRYABLE_CODES.has(pgCode(error) ?? '')) continue;
      throw error;
    } finally {
      client.off('error', onError);
      // A connection that could not roll back, or broke, is in an unknown state: destroy it rather than reuse it.
      client.release(broken);
    }
  }
}

export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A pool (one statement, its own implicit transaction) or a connection inside a transaction. */
export type Queryable = Pool | PoolClient;
