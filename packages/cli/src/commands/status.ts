import { readableTime, submissionDeadline, utcMinute, type RecordState, type UsageStore } from '@meterkit/core';
import { duration, iso } from '../hours';
import { printJson, type Context } from '../io';
import { table } from '../format/table';

const HOUR_MS = 3_600_000;

export interface StatusReport {
  readonly store: string;
  readonly now: string;
  readonly pending: ReadonlyArray<{ hour: string; records: number; quantity: number; deadline: string; windowLeftMs: number }>;
  readonly oldestPendingAgeMs?: number;
  readonly oldestWindowLeftMs?: number;
  /** The newest settledAt of a record AWS accepted (state sent): the same fact as metering.status() and the status page. */
  readonly lastSuccessfulSendAt?: string;
  readonly counts: Readonly<Record<RecordState, number>>;
  readonly lateQuantity: number;
  readonly customers: Readonly<Record<string, number>>;
}

/** What the store holds now: everything a seller checks first. */
export async function statusReport(store: UsageStore, now: number): Promise<StatusReport> {
  const stats = await store.stats();
  const lastSent = stats.lastSentAt;
  const customers: Record<string, number> = {};
  for (const customer of await store.listCustomers()) customers[customer.status] = (customers[customer.status] ?? 0) + 1;
  const oldest = stats.unsettledByHour[0];
  return {
    store: store.kind,
    now: iso(now),
    pending: stats.unsettledByHour.map((h) => ({
      hour: iso(h.hour),
      records: h.records,
      quantity: h.quantity,
      deadline: iso(submissionDeadline(h.hour)),
      windowLeftMs: submissionDeadline(h.hour) - now,
    })),
    ...(oldest === undefined
      ? {}
      : { oldestPendingAgeMs: Math.max(0, now - (oldest.hour + HOUR_MS)), oldestWindowLeftMs: submissionDeadline(oldest.hour) - now }),
    ...(lastSent === undefined ? {} : { lastSuccessfulSendAt: iso(lastSent) }),
    counts: stats.countsByState,
    lateQuantity: stats.lateQuantity,
    customers,
  };
}

export function printStatus(context: Context, report: StatusReport): void {
  if (context.json) return printJson(context, report);
  const out: string[] = [];
  const now = Date.parse(report.now);
  out.push(`Store: ${report.store}    now: ${utcMinute(now)}`);
  out.push(`Last successful send: ${report.lastSuccessfulSendAt === undefined ? 'never' : readableTime(report.lastSuccessfulSendAt, now)}`);
  if (report.oldestPendingAgeMs !== undefined && report.oldestWindowLeftMs !== undefined) {
    const oldest = utcMinute(report.pending[0]!.hour);
    out.push(
      `Oldest pending hour ${oldest} ${report.oldestPendingAgeMs === 0 ? 'is still open' : `closed ${duration(report.oldestPendingAgeMs)} ago`}; ${
        report.oldestWindowLeftMs > 0 ? `${duration(report.oldestWindowLeftMs)} left in AWS's window` : 'AWS’s window has PASSED'
      }`,
    );
  } else {
    out.push('Nothing pending.');
  }
  out.push('', 'Pending per hour');
  out.push(
    report.pending.length === 0
      ? '(none)\n'
      : table(
          ['hour', 'records', 'quantity', 'deadline', 'left'],
          report.pending.map((p) => [utcMinute(p.hour), p.records, p.quantity, utcMinute(p.deadline), duration(p.windowLeftMs)]),
        ),
  );
  out.push('Records per state');
  out.push(table(['state', 'records'], Object.entries(report.counts).map(([state, count]) => [state, count])));
  out.push(`Late units (counted after their hour was frozen, not sent): ${report.lateQuantity}`, '');
  out.push('Customers per status');
  const customers = Object.entries(report.customers);
  out.push(customers.length === 0 ? '(none)\n' : table(['status', 'customers'], customers.map(([status, count]) => [status, count])));
  context.io.stdout(out.join('\n'));
}
