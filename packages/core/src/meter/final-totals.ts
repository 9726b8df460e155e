import { ErrorCodes, MeterkitError } from '../errors';
import type { CustomerIdentity, CustomerRecord } from '../model/customer';
import { hourOf, submissionDeadline } from '../model/hours';
import { HOUR_MS } from '../model/limits';
import type { Allocation } from '../model/usage';
import { assertDimension, frozenUsageOf } from '../model/validate-usage';
import type { CustomerDirectory } from '../registration/customer-directory';
import type { UsageStore } from '../store/usage-store';
import { assertTotalNotIncluded } from './included-usage';

/** A finalized hourly total, for sellers who compute usage elsewhere. */
export interface TotalInput {
  readonly customer: CustomerIdentity | CustomerRecord;
  readonly dimension: string;
  /** Start of a closed UTC hour. */
  readonly hour: Date | number;
  readonly quantity: number;
  /** Optional allocations; they must add up to `quantity`. */
  readonly allocations?: readonly Allocation[];
}

export interface FinalTotalsDeps {
  readonly directory: CustomerDirectory;
  /** The store, once open. */
  readonly store: () => Promise<UsageStore>;
  readonly clock: () => number;
}

/** Finalized hourly totals handed in whole (set, not add), checked and stored. */
export class FinalTotals {
  constructor(private readonly d: FinalTotalsDeps) {}

  /**
   * Stores a total for a closed hour still within AWS's window. The same total again is accepted; a different one
   * for an hour already stored throws ERR_METERKIT_TOTAL_CONFLICT.
   */
  async set(total: TotalInput): Promise<void> {
    const identity = 'identity' in total.customer ? total.customer.identity : total.customer;
    const bound = this.d.directory.bind(identity);
    assertDimension(bound.product, total.dimension);
    assertTotalNotIncluded(bound.product, total.dimension);
    const hour = assertClosedHour(total.hour, this.d.clock);
    const usage = frozenUsageOf(total.quantity, total.allocations);
    const store = await this.d.store();
    const result = await store.setTotal(
      { customer: bound.identity, customerKey: bound.key, productCode: bound.product.productCode, dimension: total.dimension, hour, usage },
      this.d.clock(),
    );
    if (result.outcome === 'conflict') {
      throw new MeterkitError(
        ErrorCodes.TOTAL_CONFLICT,
        `A different total for ${total.dimension} at ${new Date(hour).toISOString()} is already stored (${result.existing.frozen?.quantity ?? result.existing.quantity}, ${result.existing.state}); AWS keeps the first and would answer DuplicateRecord.`,
        { awsException: 'DuplicateRecord', details: { state: result.existing.state } },
      );
    }
  }
}

/** `value` as the start of a UTC hour that closed by the clock's time and is still within AWS's window; else ERR_METERKIT_TIMESTAMP. */
export function assertClosedHour(value: Date | number, clock: () => number): number {
  const hour = value instanceof Date ? value.getTime() : value;
  if (typeof hour !== 'number' || !Number.isFinite(hour) || hour !== hourOf(hour)) {
    throw new MeterkitError(ErrorCodes.TIMESTAMP, 'hour must be the start of a UTC hour (minutes, seconds and ms zero).', {
      awsException: 'TimestampOutOfBoundsException',
    });
  }
  const now = clock();
  if (hour + HOUR_MS > now) {
    throw new MeterkitError(ErrorCodes.TIMESTAMP, `The hour ${new Date(hour).toISOString()} has not closed yet: hand in totals of completed hours only.`, {
      awsException: 'TimestampOutOfBoundsException',
    });
  }
  if (submissionDeadline(hour) <= now) {
    throw new MeterkitError(ErrorCodes.TIMESTAMP, `The hour ${new Date(hour).toISOString()} is past AWS's submission window (24 hours, previous month until 06:00 UTC on the 1st).`, {
      awsException: 'TimestampOutOfBoundsException',
    });
  }
  return hour;
}
