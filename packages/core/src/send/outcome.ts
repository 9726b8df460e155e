import type { StoredRecord, TerminalState } from '../store/usage-store';
import type { FlushReport } from './flush-report';

/** How a record ended after a send, as stored and reported. */
export interface Outcome {
  readonly record: StoredRecord;
  readonly state: TerminalState;
  readonly reason?: string;
  readonly meteringRecordId?: string;
  /** For expired records: the deadline they missed (default: BatchMeterUsage's). */
  readonly deadline?: number;
}

/** Stores outcomes, counts them in the report and emits their events. */
export type Settle = (outcomes: readonly Outcome[], report: FlushReport) => Promise<void>;

/** Hands records back for a later flush, due again after `delayMs`. */
export type Release = (records: readonly StoredRecord[], reason: string, delayMs: number, report: FlushReport) => Promise<void>;
