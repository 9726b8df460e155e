import type { AddUsageResult, UsageDelta } from '@meterkit/core';
import type { RecordWrite } from './record-writes';

/** What applying one record write found. */
export interface Applied {
  readonly late: boolean;
  /** Tags keys of the write's tag sets counted untagged (over the record's budget). */
  readonly untagged: readonly string[];
}

/** The late and untagged deltas of a batch, gathered write by write. */
export class WriteOutcome {
  private readonly late = new Set<UsageDelta>();
  private readonly untagged = new Set<UsageDelta>();

  add(write: RecordWrite, applied: Applied): void {
    if (applied.late) for (const delta of write.deltas) this.late.add(delta);
    if (applied.untagged.length === 0) return;
    const keys = new Set(applied.untagged);
    for (const delta of write.deltas) if (keys.has(delta.tagsKey)) this.untagged.add(delta);
  }

  /** The result for `deltas`, in their order. */
  of(deltas: readonly UsageDelta[]): AddUsageResult {
    const late = this.late.size === 0 ? [] : deltas.filter((d) => this.late.has(d));
    return this.untagged.size === 0 ? { late } : { late, untagged: deltas.filter((d) => this.untagged.has(d)) };
  }
}
