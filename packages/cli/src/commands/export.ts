import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import type { UsageStore } from '@meterkit/core';
import { hourRange } from '../hours';
import { UsageError, type Context } from '../io';
import { recordView, type RecordView } from '../records-view';
import { csvLine } from '../format/csv';

export interface ExportOptions {
  readonly format?: string;
  readonly from?: string;
  readonly to?: string;
  readonly out?: string;
}

/**
 * Columns a seller joins against AWS's billed-usage reports and CloudTrail BatchMeterUsage events
 * (licenseArn / customerIdentifier + dimension + hour, or meteringRecordId).
 */
export const EXPORT_COLUMNS = [
  'hour',
  'license_arn',
  'customer_identifier',
  'customer_aws_account_id',
  'product_code',
  'dimension',
  'quantity',
  'metering_record_id',
  'state',
  'sent_at',
  'reason',
] as const;

function exportRow(v: RecordView): Array<string | number | undefined> {
  return [
    v.hour,
    v.licenseArn,
    v.customerIdentifier,
    v.customerAwsAccountId,
    v.productCode,
    v.dimension,
    v.quantity,
    v.meteringRecordId,
    v.state,
    v.state === 'sent' ? v.settledAt : undefined,
    v.reason,
  ];
}

function jsonRow(v: RecordView): string {
  const row = exportRow(v);
  return `${JSON.stringify(Object.fromEntries(EXPORT_COLUMNS.map((column, i) => [column, row[i] ?? null])))}\n`;
}

/** The ledger of an hour range as CSV (RFC 4180, with a header) or JSON lines, to a file or stdout. */
export async function exportCommand(context: Context, store: UsageStore, options: ExportOptions): Promise<void> {
  const format = options.format ?? (context.json ? 'jsonl' : 'csv');
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got ${JSON.stringify(format)}.`);
  const views = (await store.listRecords(hourRange(options))).map(recordView);
  const lines = format === 'csv' ? [csvLine(EXPORT_COLUMNS), ...views.map((v) => csvLine(exportRow(v)))] : views.map(jsonRow);
  if (options.out === undefined) {
    context.io.stdout(lines.join(''));
    return;
  }
  const path = resolve(context.cwd, options.out);
  const file = createWriteStream(path);
  for (const line of lines) if (!file.write(line)) await new Promise<void>((done) => file.once('drain', () => done()));
  file.end();
  await finished(file);
  context.io.stderr(`Exported ${views.length} record(s) to ${options.out}\n`);
}
