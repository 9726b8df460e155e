import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/** The database the tests fill and empty; CI starts it with tools/scripts/ensure-postgres.sh. */
export const PG_URL = process.env.METERKIT_TEST_PG_URL ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit';

/** A pool on the test database that fails fast (and fails the test) when no server answers. */
export function testPool(max = 4): Pool {
  const pool = new Pool({ connectionString: PG_URL, max, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  return pool;
}

/** A schema name no other test file uses. */
export function uniqueSchemaName(label: string): string {
  return `mk_test_${label}_${randomBytes(5).toString('hex')}`;
}

/** Drops schemas created by a test file: the admin pool outlives every store. */
export class SchemaJanitor {
  private readonly schemas = new Set<string>();
  readonly admin = testPool(2);

  /** Checks that the server answers, with a message saying how to start one. */
  async assertServerAnswers(): Promise<void> {
    try {
      await this.admin.query('SELECT 1');
    } catch (error) {
      throw new Error(
        `No PostgreSQL server answers at METERKIT_TEST_PG_URL (${PG_URL.replace(/\/\/[^@]*@/, '//…@')}): ` +
          `run tools/scripts/ensure-postgres.sh or point METERKIT_TEST_PG_URL at a test database. ${String(error)}`,
      );
    }
  }

  fresh(label: string): string {
    const schema = uniqueSchemaName(label);
    this.schemas.add(schema);
    return schema;
  }

  async drop(schema: string): Promise<void> {
    this.schemas.delete(schema);
    await this.admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }

  async dropAll(): Promise<void> {
    for (const schema of [...this.schemas]) await this.drop(schema);
    await this.admin.end();
  }
}
