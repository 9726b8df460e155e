import { type RecordState, type StoredRecord, type UsageStore } from '@meterkit/core';
import { hourRange } from '../hours';
import { printJson, UsageError, type Context } from '../io';
import { customerKeyOf, customerShort, hourLabel, recordView, type RecordView } from '../records-view';
import { DEFAULT_WIDTH, table, type TableFit } from '../format/table';
import { wrap } from '../format/wrap';

export interface RecordFilters {
  readonly customer?: string;
  readonly dimension?: string;
  readonly from?: string;
  readonly to?: string;
  readonly state?: string[];
  /** Tables show every value in full (license ARN, time; records add the MeteringRecordId). Default false: 120 columns. */
  readonly wide?: boolean;
}

const STATES: readonly RecordState[] = ['open', 'pending', 'sending', 'sent', 'not-subscribed', 'duplicate', 'rejected', 'expired', 'dry-run'];

const HEADERS = ['hour', 'tenant', 'account', 'customer', 'dimension', 'quantity', 'state', 'reason'];
/** `--wide` adds the MeteringRecordId: at 120 columns it would leave too little room for the rest. */
const WIDE_HEADERS = [...HEADERS, 'record id'];

/** The license id keeps its start (enough to tell licenses apart); the reason is in full in the Reasons list below. */
const FIT: TableFit = {
  width: DEFAULT_WIDTH,
  shrink: [
    { column: 3, min: 12 },
    { column: 7, min: 22 },
    { column: 1, min: 10 },
    { column: 4, min: 10 },
  ],
};

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

/** Your app's tenant id of each customer key that has one (linked at registration or with linkTenant()). */
export async function tenantsByCustomer(store: UsageStore): Promise<Map<string, string>> {
  const tenants = new Map<string, string>();
  for (const customer of await store.listCustomers()) if (customer.tenantId !== undefined) tenants.set(customer.key, customer.tenantId);
  return tenants;
}

export async function recordsCommand(context: Context, store: UsageStore, options: RecordFilters): Promise<void> {
  const tenants = await tenantsByCustomer(store);
  const views = (await findRecords(store, options)).map((record): RecordView & { tenantId?: string } => {
    const tenantId = tenants.get(record.customerKey);
    return { ...recordView(record), ...(tenantId === undefined ? {} : { tenantId }) };
  });
  if (context.json) return printJson(context, views);
  if (views.length === 0) return context.io.stdout('No records match.\n');
  const wide = options.wide === true;
  const row = (v: (typeof views)[number]): Array<string | number> => [
    hourLabel(v, wide),
    v.tenantId ?? '',
    v.customerAwsAccountId ?? '',
    customerShort(v, wide),
    v.dimension,
    v.quantity,
    v.state,
    v.reason ?? '',
  ];
  context.io.stdout(
    wide ? table(WIDE_HEADERS, views.map((v) => [...row(v), v.meteringRecordId ?? ''])) : table(HEADERS, views.map(row), FIT),
  );
  const problems = views.filter((v) => v.fix !== undefined && v.reason !== undefined);
  if (problems.length === 0) return;
  const reasons = [...new Map(problems.map((v) => [v.reason!, v])).values()];
  if (wide) {
    context.io.stdout(`\nReasons\n${table(['reason', 'AWS exception', 'fix'], reasons.map((v) => [v.reason!, v.awsException!, v.fix!]))}`);
    return;
  }
  context.io.stdout(
    `\nReasons\n${reasons.map((v) => `${v.reason} (AWS: ${v.awsException})\n${wrap(v.fix!, DEFAULT_WIDTH, '  ')}`).join('')}`,
  );
}
