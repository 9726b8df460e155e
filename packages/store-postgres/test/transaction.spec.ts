import { inTransaction } from '../src/transaction';
import { testPool } from './support/database';

describe('transactions on a connection that breaks', () => {
  it('reject the transaction and keep the process alive when the server drops the connection mid-transaction', async () => {
    const pool = testPool(2);
    const admin = testPool(1);
    const marker = `meterkit_drop_${process.pid}_${Date.now()}`;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const running = inTransaction(pool, (client) => client.query(`SELECT pg_sleep(5), '${marker}'`));
      const outcome = running.then(() => 'resolved', () => 'rejected');
      for (let i = 0; i < 100; i++) {
        const { rowCount } = await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
          [marker],
        );
        if (rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await outcome).toBe('rejected');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
      await expect(inTransaction(pool, (client) => client.query('SELECT 1 AS one'))).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
      await admin.end();
    }
  });
});
