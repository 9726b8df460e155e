import type { RequestMeter } from '../meter/request-meter';

export interface CommitPolicy {
  /** Which responses are billed. Default: status below 500. */
  readonly commitOn?: (statusCode: number) => boolean;
  /** Bill requests whose client went away before the response finished. Default false. */
  readonly commitAborted?: boolean;
}

export function shouldCommit(statusCode: number, aborted: boolean, policy: CommitPolicy = {}): boolean {
  if (aborted && policy.commitAborted !== true) return false;
  return policy.commitOn === undefined ? statusCode < 500 : policy.commitOn(statusCode);
}

/** Commits or discards a request's meter once the response is done. Never throws: the response is already sent. */
export function finishMeter(meter: RequestMeter | undefined, statusCode: number, aborted: boolean, policy?: CommitPolicy): void {
  if (meter === undefined) return;
  if (shouldCommit(statusCode, aborted, policy)) void meter.commit().catch(() => undefined);
  else meter.discard();
}
