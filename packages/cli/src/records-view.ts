import type { StoredRecord } from '@meterkit/core';
import { iso } from './hours';
import { reasonHelp } from './reasons';

/** A stored record as the CLI shows and exports it. */
export interface RecordView {
  readonly id: string;
  readonly hour: string;
  readonly customerKey: string;
  readonly licenseArn?: string;
  readonly customerIdentifier?: string;
  readonly customerAwsAccountId?: string;
  readonly productCode: string;
  readonly dimension: string;
  /** What is (or will be) sent: the frozen quantity once frozen, else the live total. */
  readonly quantity: number;
  /** Units that arrived after the quantity was frozen: counted, not sent. */
  readonly lateQuantity: number;
  readonly state: string;
  readonly attempts: number;
  readonly meteringRecordId?: string;
  readonly settledAt?: string;
  readonly reason?: string;
  readonly awsException?: string;
  readonly fix?: string;
}

export function recordView(record: StoredRecord): RecordView {
  const sentQuantity = record.frozen?.quantity ?? record.quantity;
  const customer = record.customer;
  const help = record.state === 'sent' && record.reason === undefined ? undefined : reasonHelp(record.reason);
  return {
    id: record.id,
    hour: iso(record.hour),
    customerKey: record.customerKey,
    ...(customer.kind === 'license' ? { licenseArn: customer.licenseArn } : {}),
    ...(customer.kind === 'legacy' && customer.customerIdentifier !== undefined ? { customerIdentifier: customer.customerIdentifier } : {}),
    ...(customer.customerAwsAccountId === undefined ? {} : { customerAwsAccountId: customer.customerAwsAccountId }),
    productCode: record.productCode,
    dimension: record.dimension,
    quantity: sentQuantity,
    lateQuantity: record.quantity - sentQuantity,
    state: record.state,
    attempts: record.attempts,
    ...(record.meteringRecordId === undefined ? {} : { meteringRecordId: record.meteringRecordId }),
    ...(record.settledAt === undefined ? {} : { settledAt: iso(record.settledAt) }),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(help === undefined ? {} : { awsException: help.awsException, fix: help.fix }),
  };
}

/**
 * The customer without its account, which gets its own column: the license id (`l-…`, the last part of the ARN)
 * or with `wide` the whole license ARN, the legacy customer identifier, or `product` for product-level records.
 */
export function customerShort(view: RecordView, wide = false): string {
  if (view.licenseArn !== undefined) return wide ? view.licenseArn : licenseIdOf(view.licenseArn);
  if (view.customerIdentifier !== undefined) return view.customerIdentifier;
  return view.customerKey.startsWith('product:') ? 'product' : '';
}

/** `l-0123…` from `arn:aws:license-manager::123456789012:license:l-0123…`. */
export function licenseIdOf(licenseArn: string): string {
  return licenseArn.slice(Math.max(licenseArn.lastIndexOf(':'), licenseArn.lastIndexOf('/')) + 1);
}

/** A stored customer key for a narrow column: `license:<ARN>` becomes the license id; with `wide`, the key as stored. */
export function customerKeyLabel(key: string, wide = false): string {
  return !wide && key.startsWith('license:') ? licenseIdOf(key) : key;
}

/** An hour as `2026-07-15T10:00Z` (what --from and --to accept), or with `wide` the full ISO 8601 time. */
export function hourLabel(view: RecordView, wide = false): string {
  return timeLabel(view.hour, wide);
}

/** An ISO 8601 time without its zero seconds (`2026-07-16T10:00Z`), or with `wide` as given. */
export function timeLabel(time: string, wide = false): string {
  return wide ? time : time.replace(/:00\.000Z$/, 'Z');
}

/** `--customer`: a customer key as stored, or a license ARN. */
export function customerKeyOf(value: string): string {
  return value.startsWith('arn:') ? `license:${value}` : value;
}
