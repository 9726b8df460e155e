import { BATCH_ID_RETENTION_MS } from '../usage-store';
import type { Statements } from './statements';

/**
 * Every this many batch writes of a connection (the first one included), batch ids older than
 * BATCH_ID_RETENTION_MS are forgotten, at most FORGET_LIMIT of them: ten per write on average, so the table keeps
 * up with the one id each write adds, while no write deletes more than a bounded number of rows (a backlog is worked
 * off over the following writes) and the other writes run no DELETE at all.
 */
export const FORGET_EVERY_WRITES = 100;
export const FORGET_LIMIT = 1000;

/** The ids of applied batches, kept in each batch's own transaction so that a batch is applied once. */
export function batchIds(sql: Pick<Statements, 'recordBatch' | 'forgetBatches'>) {
  let writesUntilForget = 0;
  return {
    /** Keeps the id; false when it had been applied before (within the retention) and the batch must be skipped. */
    record(batchId: string, now: number): boolean {
      if (sql.recordBatch.run({ id: batchId, now }).changes === 0) return false;
      if (--writesUntilForget <= 0) {
        sql.forgetBatches.run({ before: now - BATCH_ID_RETENTION_MS, limit: FORGET_LIMIT });
        writesUntilForget = FORGET_EVERY_WRITES;
      }
      return true;
    },
  };
}
