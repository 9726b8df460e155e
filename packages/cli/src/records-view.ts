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

/** The customer as a short column: the license ARN, `product/identifier` or `product/account`. */
export function customerLabel(view: RecordView): string {
  return view.licenseArn ?? `${view.productCode}/${view.customerIdentifier ?? view.customerAwsAccountId ?? '?'}`;
}

/** `--customer`: a customer key as stored, or a license ARN. */
export function customerKeyOf(value: string): string {
  return value.startsWith('arn:') ? `license:${value}` : value;
}
