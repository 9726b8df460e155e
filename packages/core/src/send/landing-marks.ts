import { classifyError, errorName } from '../aws/classify-error';
import type { StoredRecord, UsageStore } from '../store/usage-store';

/**
 * True when a failed call may still have been applied by AWS: an AWS fault (5xx), a timeout, a reset or any other
 * call without an answer. A throttle or another 4xx refusal applied nothing.
 */
export function mayHaveApplied(error: unknown): boolean {
  return classifyError(error) === 'retry' && errorName(error) !== 'ThrottlingException';
}

/**
 * Whether some call of each claimed record may have reached AWS: the stored mayHaveLanded as the flush knows it.
 * journal() sets the stored flag before every call; after a definite non-landing answer, refused() restores
 * the value it had before that call, so the store stays exact across a crash or a release.
 */
export class LandingMarks {
  private readonly marks = new Map<string, boolean>();

  constructor(
    private readonly store: UsageStore,
    private readonly owner: string,
    claimed: readonly StoredRecord[],
  ) {
    for (const record of claimed) this.marks.set(record.id, record.mayHaveLanded);
  }

  /** Whether a call before the one being answered may have landed: a DuplicateRecord may be our own resend. */
  mayHaveLanded(id: string): boolean {
    return this.marks.get(id) === true;
  }

  /** The journaled call got no definite answer: AWS may hold these records from now on. */
  ambiguous(ids: readonly string[]): void {
    for (const id of ids) this.marks.set(id, true);
  }

  /** AWS definitely applied none of the journaled call for these records: restores their stored flag. */
  async refused(ids: readonly string[]): Promise<void> {
    const clear = ids.filter((id) => this.marks.get(id) === false);
    if (clear.length > 0) await this.store.clearMayHaveLanded(clear, this.owner);
  }
}
