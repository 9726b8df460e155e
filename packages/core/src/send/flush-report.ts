/** What one flush did. */
export interface FlushReport {
  /** Records taken from the store for sending. */
  claimed: number;
  /** BatchMeterUsage and MeterUsage calls made (a granted send slot whose records' leases had run out makes none). */
  calls: number;
  sent: number;
  notSubscribed: number;
  duplicate: number;
  rejected: number;
  expired: number;
  dryRun: number;
  /** Records handed back to be retried by a later flush (throttling, AWS faults, unprocessed). */
  released: number;
}

export function emptyReport(): FlushReport {
  return { claimed: 0, calls: 0, sent: 0, notSubscribed: 0, duplicate: 0, rejected: 0, expired: 0, dryRun: 0, released: 0 };
}
