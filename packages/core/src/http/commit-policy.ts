import { COMMITTED, type RequestMeter } from '../meter/request-meter';

export interface CommitPolicy {
  /**
   * Which responses are billed. Default: status below 400, so a refused request (400 validation, 401/403 auth,
   * 404, 429) bills nothing, and neither does a 5xx.
   */
  readonly commitOn?: (statusCode: number) => boolean;
  /** Bill requests whose client went away before the response finished. Default false. */
  readonly commitAborted?: boolean;
}

/** The default `commitOn`: only answers that served the request (1xx-3xx) are billed. */
export function isServed(statusCode: number): boolean {
  return statusCode < 400;
}

export function shouldCommit(statusCode: number, aborted: boolean, policy: CommitPolicy = {}): boolean {
  if (aborted && policy.commitAborted !== true) return false;
  return (policy.commitOn ?? isServed)(statusCode);
}

/** Commits or discards a request's meter once the response is done. Never throws: the response is already sent. */
export function finishMeter(meter: RequestMeter | undefined, statusCode: number, aborted: boolean, policy?: CommitPolicy): void {
  if (meter === undefined) return;
  if (!shouldCommit(statusCode, aborted, policy)) return meter.discard();
  const committed = meter.commit();
  // An interval commit is already done: no handler (and no promise) per request.
  if (committed !== COMMITTED) committed.catch(ignore);
}

function ignore(): void {
  // The response is sent; a sync commit that failed left its usage queued for the next persist.
}
