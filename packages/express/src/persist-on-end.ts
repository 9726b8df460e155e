import { shouldCommit, type CommitPolicy, type Metering, type RequestMeter } from '@meterkit/core';
import type { Response } from 'express';

/**
 * Wraps `res.end` once: the first call commits the meter (or discards it, by the commit policy) and writes
 * the usage to the store, and only then ends the response. A failed write is not the client's problem: the
 * response goes out anyway and the usage stays in memory for the next write.
 */
export function persistOnEnd(res: Response, meter: RequestMeter, metering: Metering, policy: CommitPolicy): void {
  const end = res.end;
  res.end = function endAfterPersist(this: Response, ...args: unknown[]): Response {
    res.end = end;
    const persisted = shouldCommit(res.statusCode, false, policy)
      ? meter.commit().then(() => metering.persist())
      : Promise.resolve(meter.discard());
    void persisted
      .catch(() => undefined)
      .then(() => (end as (...a: unknown[]) => Response).apply(res, args));
    return res;
  } as Response['end'];
}
