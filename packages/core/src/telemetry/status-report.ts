import { ErrorCodes, MeterkitError } from '../errors';
import type { Persister } from '../meter/persister';
import { submissionDeadline } from '../model/hours';
import { HOUR_MS } from '../model/limits';
import type { MeteringStatus } from '../status';
import type { RequestStoreCalls } from '../store/store-timeout';
import { TERMINAL_STATES, type RecordState, type StoreStats, type UsageStore } from '../store/usage-store';

export interface StatusReportDeps {
  readonly mode: 'live' | 'dry-run';
  /** The store described (kind, durability). */
  readonly store: UsageStore;
  /** The store, once open. */
  readonly opened: () => Promise<UsageStore>;
  /** The store calls requests and status reads wait for, bounded by storeTimeoutMs. */
  readonly storeCalls: RequestStoreCalls;
  readonly persister: Persister;
  readonly clock: () => number;
  /** Units refused so far because an hour's total would exceed one AWS record. */
  readonly overflowQuantity: () => number;
}

/**
 * The engine's status, read now. Never rejects, and answers within storeTimeoutMs: while the store is unreachable or
 * does not answer, `storeError` says so and the store's figures are empty.
 */
export async function statusReport(d: StatusReportDeps): Promise<MeteringStatus> {
  let stats: StoreStats;
  let storeError: MeterkitError | undefined;
  try {
    stats = await d.storeCalls.wait(
      d.opened().then((store) => store.stats()),
      'read status',
    );
  } catch (cause) {
    storeError = cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.STORE, 'The store did not answer.', { cause });
    stats = { unsettledByHour: [], countsByState: emptyCounts(), lateQuantity: 0, lastSentAt: undefined };
  }
  const now = d.clock();
  const oldest = stats.unsettledByHour[0];
  const failure = d.persister.failure;
  return {
    mode: d.mode,
    store: { kind: d.store.kind, durable: d.store.durable },
    ...(storeError === undefined ? {} : { storeError: { code: storeError.code, message: storeError.message } }),
    inMemory: d.persister.pending,
    ...(failure === undefined ? {} : { persistError: { code: failure.code, message: failure.message } }),
    pending: stats.unsettledByHour.map((h) => ({
      hour: new Date(h.hour).toISOString(),
      records: h.records,
      quantity: h.quantity,
      deadline: new Date(submissionDeadline(h.hour)).toISOString(),
    })),
    ...(oldest === undefined
      ? {}
      : { oldestPendingAgeMs: Math.max(0, now - (oldest.hour + HOUR_MS)), oldestWindowLeftMs: submissionDeadline(oldest.hour) - now }),
    ...(stats.lastSentAt === undefined ? {} : { lastSuccessfulSendAt: new Date(stats.lastSentAt).toISOString() }),
    counts: stats.countsByState,
    lateQuantity: stats.lateQuantity,
    overflowQuantity: d.overflowQuantity(),
  };
}

function emptyCounts(): Record<RecordState, number> {
  const counts = { open: 0, pending: 0, sending: 0 } as Record<RecordState, number>;
  for (const state of TERMINAL_STATES) counts[state] = 0;
  return counts;
}
