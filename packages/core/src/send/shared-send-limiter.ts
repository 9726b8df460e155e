import { ErrorCodes, MeterkitError } from '../errors';
import type { ResolvedOptions } from '../options';
import type { UsageStore } from '../store/usage-store';
import { RateLimiter } from './rate-limiter';
import { METERING_SCOPE, SendQuota, type SendLimiter } from './send-quota';

/**
 * This instance's limit of calls to AWS, and the quota every instance on the store shares when the store keeps
 * send slots (`sharedQuota`, default on where supported).
 */
export function sendLimiter(o: ResolvedOptions, store: UsageStore, sleep: (ms: number) => Promise<void>): SendLimiter {
  const local = new RateLimiter(o.requestsPerSecond, Date.now, sleep);
  if (o.sharedQuota === false) return local;
  const take = store.takeSendSlot;
  const extend = store.extendSendSlot;
  if (take === undefined || extend === undefined) {
    if (o.sharedQuota === true) {
      throw new MeterkitError(ErrorCodes.OPTIONS, `sharedQuota: the ${store.kind} store cannot share a send quota (it has no takeSendSlot() and extendSendSlot()); leave sharedQuota unset or false.`);
    }
    return local;
  }
  const shared = {
    takeSendSlot: (scope: string, now: number, capacity: number, windowMs: number) => take.call(store, scope, now, capacity, windowMs),
    extendSendSlot: (scope: string, grantedAt: number, until: number) => extend.call(store, scope, grantedAt, until),
  };
  return new SendQuota({ local, shared, scope: METERING_SCOPE, clock: o.clock, sleep, logger: o.logger });
}
