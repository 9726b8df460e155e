import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { UsageStore } from '@meterkit/core';
import { hourRange, iso } from '../hours';
import { printJson, UsageError, type Context } from '../io';
import type { AwsRecord } from '../reconcile/aws-records';
import { parseCloudTrail } from '../reconcile/cloudtrail';
import { compareLedger } from '../reconcile/compare';
import { fetchEmulatorRecords } from '../reconcile/emulator-source';
import { DEFAULT_WIDTH, table } from '../format/table';
import { customerKeyLabel } from '../records-view';

export interface ReconcileOptions {
  readonly cloudtrail?: string;
  readonly emulator?: string;
  readonly from?: string;
  readonly to?: string;
  /** Customer keys in full, however wide the lines get. Default false: 120 columns. */
  readonly wide?: boolean;
}

const HOUR_MS = 3_600_000;

/**
 * Lists every hour where the ledger and AWS differ. The hours compared are --from/--to, by default the hours
 * the AWS side covers (a CloudTrail export covers a period: the ledger outside it is not compared).
 * Exit code 1 when differences exist.
 */
export async function reconcileCommand(context: Context, store: UsageStore, options: ReconcileOptions): Promise<void> {
  if ((options.cloudtrail === undefined) === (options.emulator === undefined)) {
    throw new UsageError('reconcile needs exactly one of --cloudtrail <events.json> or --emulator <url>.');
  }
  let aws: AwsRecord[];
  if (options.cloudtrail !== undefined) {
    const path = resolve(context.cwd, options.cloudtrail);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`Cannot read ${options.cloudtrail}: ${(error as Error).message}`);
    }
    aws = parseCloudTrail(text);
  } else {
    aws = await fetchEmulatorRecords(options.emulator!);
  }
  const range = hourRange(options);
  const hours = aws.map((r) => r.hour);
  const hourFrom = range.hourFrom ?? (hours.length === 0 ? undefined : Math.min(...hours));
  const hourTo = range.hourTo ?? (hours.length === 0 ? undefined : Math.max(...hours) + HOUR_MS);
  const inRange = (hour: number): boolean => (hourFrom === undefined || hour >= hourFrom) && (hourTo === undefined || hour < hourTo);
  const local = hourFrom === undefined && hourTo === undefined && options.from === undefined && options.to === undefined
    ? []
    : await store.listRecords({ ...(hourFrom === undefined ? {} : { hourFrom }), ...(hourTo === undefined ? {} : { hourTo }) });
  const differences = compareLedger(local, aws.filter((r) => inRange(r.hour)));
  if (differences.length > 0) context.exitCode = 1;
  const summary = {
    from: hourFrom === undefined ? null : iso(hourFrom),
    to: hourTo === undefined ? null : iso(hourTo),
    ledgerRecords: local.length,
    awsRecords: aws.filter((r) => inRange(r.hour)).length,
    differences: differences.map((d) => ({ ...d, hour: iso(d.hour) })),
  };
  if (context.json) return printJson(context, summary);
  const head = `Compared ${summary.ledgerRecords} ledger record(s) with ${summary.awsRecords} AWS record(s) from ${summary.from ?? '-'} to ${summary.to ?? '-'}.\n`;
  if (differences.length === 0) return context.io.stdout(`${head}No differences.\n`);
  const byHour = new Map<string, typeof summary.differences>();
  for (const d of summary.differences) byHour.set(d.hour, [...(byHour.get(d.hour) ?? []), d]);
  const parts = [`${head}${differences.length} difference(s) in ${byHour.size} hour(s):\n`];
  for (const [hour, list] of byHour) {
    parts.push(
      `\n${hour}\n${table(
        ['difference', 'customer', 'dimension', 'local', 'aws', 'unbilled'],
        list.map((d) => [
          d.kind,
          customerKeyLabel(d.customerKey, options.wide === true),
          d.dimension,
          d.localQuantity === undefined ? '-' : `${d.localQuantity} (${d.localState})`,
          d.awsQuantity ?? '-',
          d.unbilled,
        ]),
        options.wide === true ? undefined : { width: DEFAULT_WIDTH, shrink: [{ column: 1, min: 12 }, { column: 2, min: 10 }] },
      )}`,
    );
  }
  context.io.stdout(parts.join(''));
}
