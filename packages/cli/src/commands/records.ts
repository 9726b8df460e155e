import { type RecordState, type StoredRecord, type UsageStore } from '@meterkit/core';
import { hourRange } from '../hours';
import { printJson, UsageError, type Context } from '../io';
import { customerKeyOf, customerLabel, recordView } from '../records-view';
import { table } from '../format/table';

export interface RecordFilters {
  readonly customer?: string;
  readonly dimension?: string;
  readonly from?: string;
  readonly to?: string;
  readonly state?: string[];
}

const STATES: readonly RecordState[] = ['open', 'pending', 'sending', 'sent', 'not-subscribed', 'duplicate', 'rejected', 'expired', 'dry-run'];

/** The records matching the CLI's filters, oldest hour first. */
export async function findRecords(store: UsageStore, filters: RecordFilters, states?: readonly RecordState[]): Promise<StoredRecord[]> {
  for (const state of filters.state ?? []) {
    if (!STATES.includes(state as RecordState)) throw new UsageError(`--state must be one of ${STATES.join(', ')}, got ${JSON.stringify(state)}.`);
  }
  const wanted = filters.state === undefined ? states : (filters.state as RecordState[]).filter((s) => states === undefined || states.includes(s));
  const records = await store.listRecords({
    ...hourRange(filters),
    ...(wanted === undefined ? {} : { states: wanted }),
    ...(filters.customer === undefined ? {} : { customerKey: customerKeyOf(filters.customer) }),
  });
  return filters.dimension === undefined ? records : records.filter((r) => r.dimension === filters.dimension);
}

export async function recordsCommand(context: Context, store: UsageStore, filters: RecordFilters): Promise<void> {
  const views = (await findRecords(store, filters)).map(recordView);
  if (context.json) return printJson(context, views);
  if (views.length === 0) return context.io.stdout('No records match.\n');
  context.io.stdout(
    table(
      ['hour', 'customer', 'dimension', 'quantity', 'state', 'meteringRecordId', 'reason'],
      views.map((v) => [v.hour, customerLabel(v), v.dimension, v.quantity, v.state, v.meteringRecordId ?? '', v.reason ?? '']),
    ),
  );
  const problems = views.filter((v) => v.fix !== undefined && v.reason !== undefined);
  if (problems.length > 0) {
    const reasons = new Map(problems.map((v) => [v.reason!, v]));
    context.io.stdout(
      `\nReasons\n${table(['reason', 'AWS exception', 'fix'], [...reasons.values()].map((v) => [v.reason!, v.awsException!, v.fix!]))}`,
    );
  }
}
