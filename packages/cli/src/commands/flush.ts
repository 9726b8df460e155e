import { createMetering, hourOf, silentLogger, type AwsOptions, type FlushReport, type UsageStore } from '@meterkit/core';
import { SingleBar } from 'cli-progress';
import { printJson, type Context } from '../io';
import { loadProducts } from '../products';
import { customerShort, hourLabel, recordView } from '../records-view';
import { DEFAULT_WIDTH, table } from '../format/table';

export interface FlushOptions {
  readonly products?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly dryRun?: boolean;
  /** Default 10, as createMetering's lockMinutes. */
  readonly lockMinutes?: string;
  /** The dry run's table shows license ARNs and times in full. Default false: 120 columns. */
  readonly wide?: boolean;
}

/** The AWS client settings: flags first, then AWS_REGION / METERKIT_AWS_ENDPOINT and the AWS_* credentials of the environment. */
export function awsOptions(context: Context, options: FlushOptions): AwsOptions {
  const region = options.region ?? context.env['AWS_REGION'] ?? context.env['AWS_DEFAULT_REGION'];
  const endpoint = options.endpoint ?? context.env['METERKIT_AWS_ENDPOINT'];
  const accessKeyId = context.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = context.env['AWS_SECRET_ACCESS_KEY'];
  const sessionToken = context.env['AWS_SESSION_TOKEN'];
  return {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(accessKeyId === undefined || secretAccessKey === undefined
      ? {}
      : { credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) } }),
  };
}

/** Records a flush would claim now: pending and due, or open in an hour past its lock. Changes nothing. */
export async function dueRecords(store: UsageStore, now: number, lockMs: number) {
  const dueBefore = hourOf(now - lockMs);
  const records = await store.listRecords({ states: ['open', 'pending'] });
  return records.filter((r) => (r.state === 'pending' ? r.nextAttemptAt <= now : r.hour < dueBefore));
}

/** Runs one flush now with a progress bar, or (--dry-run) lists what it would send without touching anything. */
export async function flushCommand(context: Context, store: UsageStore, options: FlushOptions): Promise<void> {
  const lockMinutes = Number(options.lockMinutes ?? '10');
  const now = context.now();
  if (options.dryRun === true) {
    const due = (await dueRecords(store, now, lockMinutes * 60_000)).map(recordView);
    await store.close();
    if (context.json) return printJson(context, { dryRun: true, due });
    const wide = options.wide === true;
    context.io.stdout(
      due.length === 0
        ? 'Dry run: nothing is due.\n'
        : `Dry run: a flush now would send ${due.length} record(s):\n${table(
            ['hour', 'account', 'customer', 'dimension', 'quantity', 'state'],
            due.map((v) => [hourLabel(v, wide), v.customerAwsAccountId ?? '', customerShort(v, wide), v.dimension, v.quantity, v.state]),
            wide ? undefined : { width: DEFAULT_WIDTH, shrink: [{ column: 2, min: 12 }, { column: 3, min: 10 }] },
          )}`,
    );
    return;
  }
  const products = loadProducts(context, options.products);
  const total = (await dueRecords(store, now, lockMinutes * 60_000)).length;
  const metering = createMetering({
    products,
    store,
    aws: awsOptions(context, options),
    autoStart: false,
    logger: silentLogger,
    clock: context.now,
    lockMinutes,
  });
  const bar = context.io.progress === undefined || context.json
    ? undefined
    : new SingleBar({ stream: context.io.progress, format: 'flush [{bar}] {value}/{total} records | sent {sent} | problems {problems}', hideCursor: true });
  const counts = { sent: 0, problems: 0 };
  const errors: string[] = [];
  const tick = (settled: number, problem: boolean): void => {
    if (problem) counts.problems += settled;
    else counts.sent += settled;
    if (bar !== undefined) {
      if (bar.getProgress() * bar.getTotal() + settled > bar.getTotal()) bar.setTotal(bar.getTotal() + settled);
      bar.increment(settled, counts);
    }
  };
  metering
    .on('sent', (e) => tick(e.records.length, false))
    .on('rejected', () => tick(1, true))
    .on('notSubscribed', () => tick(1, true))
    .on('duplicate', () => tick(1, true))
    .on('expired', () => tick(1, true))
    .on('error', (e) => errors.push(`${e.error.code}: ${e.error.message}`));
  bar?.start(Math.max(total, 1), 0, counts);
  let report: FlushReport;
  try {
    report = await metering.flush();
  } finally {
    bar?.stop();
    await metering.close();
  }
  if (report.rejected + report.notSubscribed + report.duplicate + report.expired > 0 || errors.length > 0) context.exitCode = 1;
  if (context.json) return printJson(context, { ...report, errors });
  context.io.stdout(
    `Flushed: ${report.claimed} claimed in ${report.calls} call(s): ${report.sent} sent, ${report.rejected} rejected, ` +
      `${report.notSubscribed} not subscribed, ${report.duplicate} duplicate, ${report.expired} expired, ${report.released} to retry.\n` +
      (errors.length === 0 ? '' : `Errors:\n${errors.map((e) => `  ${e}`).join('\n')}\n`) +
      (report.rejected + report.notSubscribed + report.duplicate + report.expired > 0 ? 'See `meterkit records --state rejected` for the reasons and fixes.\n' : ''),
  );
}
