import { REDRIVABLE_STATES, submissionDeadline, type UsageStore } from '@meterkit/core';
import { duration, iso } from '../hours';
import { printJson, UsageError, type Context } from '../io';
import { customerShort, hourLabel, recordView, timeLabel, type RecordView } from '../records-view';
import { DEFAULT_WIDTH, table, type TableFit } from '../format/table';
import { findRecords, tenantsByCustomer, type RecordFilters } from './records';

export interface RedriveOptions extends RecordFilters {
  /** Records whose deadline is closer than this are refused: a flush must still get them out. Default 10 minutes. */
  readonly marginMinutes?: string;
}

const HEADERS = ['hour', 'tenant', 'account', 'customer', 'dimension', 'quantity', 'state', 'deadline'];
const FIT: TableFit = {
  width: DEFAULT_WIDTH,
  shrink: [
    { column: 3, min: 12 },
    { column: 6, min: 22 },
    { column: 1, min: 10 },
    { column: 4, min: 10 },
  ],
};

/**
 * Puts rejected, not-subscribed and retry-waiting records back in line, due now, for the next flush;
 * only records that can still make AWS's submission window.
 */
export async function redriveCommand(context: Context, store: UsageStore, options: RedriveOptions): Promise<void> {
  if (store.redrive === undefined) {
    throw new UsageError(`The ${store.kind} store does not support redrive: upgrade it to a version that implements UsageStore.redrive().`);
  }
  const marginMs = Number(options.marginMinutes ?? '10') * 60_000;
  if (!Number.isFinite(marginMs) || marginMs < 0) throw new UsageError('--margin-minutes must be a number of minutes, 0 or more.');
  const now = context.now();
  const candidates = (await findRecords(store, options, REDRIVABLE_STATES)).filter((r) => r.state !== 'pending' || r.reason !== undefined);
  const late = candidates.filter((r) => submissionDeadline(r.hour) - marginMs <= now);
  const inWindow = candidates.filter((r) => submissionDeadline(r.hour) - marginMs > now);
  const moved = new Set(inWindow.length === 0 ? [] : await store.redrive(inWindow.map((r) => r.id), now));
  const result = {
    redriven: inWindow.filter((r) => moved.has(r.id)).map(recordView),
    refused: late.map((r) => ({ ...recordView(r), deadline: iso(submissionDeadline(r.hour)), why: 'AWS’s submission window has passed (or is too close)' })),
  };
  if (candidates.length === 0) {
    context.io.stderr('No rejected, not-subscribed or failed records match: nothing to redrive.\n');
  }
  if (result.refused.length > 0) {
    context.exitCode = 1;
    context.io.stderr(
      `Refused ${result.refused.length} record(s): their hour can no longer make AWS's window (deadline minus ${duration(marginMs)} margin is past). ` +
        'They cannot be billed through AWS Marketplace any more.\n',
    );
  }
  if (context.json) return printJson(context, result);
  const wide = options.wide === true;
  const tenants = await tenantsByCustomer(store);
  const row = (v: RecordView, state: string, deadline: string): Array<string | number> => [
    hourLabel(v, wide),
    tenants.get(v.customerKey) ?? '',
    v.customerAwsAccountId ?? '',
    customerShort(v, wide),
    v.dimension,
    v.quantity,
    state,
    timeLabel(deadline, wide),
  ];
  const fit = wide ? undefined : FIT;
  if (result.redriven.length > 0) {
    context.io.stdout(
      `Redriven ${result.redriven.length} record(s) to pending; the next flush sends them:\n` +
        table(
          HEADERS.map((h) => (h === 'state' ? 'was' : h)),
          inWindow.filter((r) => moved.has(r.id)).map((r) => {
            const v = recordView(r);
            return row(v, v.reason ?? v.state, iso(submissionDeadline(r.hour)));
          }),
          fit,
        ),
    );
  }
  if (result.refused.length > 0) {
    context.io.stdout(`Refused (window passed):\n${table(HEADERS, result.refused.map((v) => row(v, v.state, v.deadline)), fit)}`);
  }
}
