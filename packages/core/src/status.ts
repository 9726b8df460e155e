import type { RecordState } from './store/usage-store';

export interface PendingHour {
  /** Start of the UTC hour, ISO 8601. */
  readonly hour: string;
  readonly records: number;
  readonly quantity: number;
  /** The last moment AWS accepts this hour's records, ISO 8601. */
  readonly deadline: string;
}

export interface MeteringStatus {
  readonly mode: 'live' | 'dry-run';
  readonly store: { readonly kind: string; readonly durable: boolean };
  /** (customer, hour, dimension) aggregates in memory, not yet in the store. */
  readonly inMemory: number;
  /** Set while the store refuses writes: usage is held in memory and retried. */
  readonly persistError?: { readonly code: string; readonly message: string };
  /** Set when the store did not answer this status call: its figures below are empty, not zero. */
  readonly storeError?: { readonly code: string; readonly message: string };
  /** Hours with records not yet settled, oldest first. */
  readonly pending: readonly PendingHour[];
  /** How long ago the oldest unsettled hour closed, in ms. */
  readonly oldestPendingAgeMs?: number;
  /** Time left in AWS's window for the oldest unsettled hour, in ms (negative: it will expire). */
  readonly oldestWindowLeftMs?: number;
  /**
   * ISO 8601 time of the last successful send: the newest `settledAt` of a record AWS accepted (state `sent`), read
   * from the store, so every instance and the CLI report the same. A flush that sent nothing or failed leaves it.
   */
  readonly lastSuccessfulSendAt?: string;
  /** Records per state, terminal ones included. */
  readonly counts: Readonly<Record<RecordState, number>>;
  /** Units that reached an hour after it was frozen: counted, not sent. */
  readonly lateQuantity: number;
  /** Units refused because an hour's total would exceed AWS's maximum quantity. */
  readonly overflowQuantity: number;
}
