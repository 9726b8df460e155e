import { hourOf, recordId } from '@meterkit/core';
import { UsageError } from '../io';
import { awsCustomerKey, type AwsIdentity, type AwsRecord } from './aws-records';

/**
 * The shape read from `aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=BatchMeterUsage`:
 *
 *   { "Events": [ { "EventName": "BatchMeterUsage", "CloudTrailEvent": "<JSON string>" } ] }
 *
 * where the CloudTrailEvent (a string, or an already parsed object) holds
 *   requestParameters.productCode?                     (legacy records only)
 *   responseElements.results[]: { usageRecord: { timestamp, dimension, quantity?, licenseArn?, customerAWSAccountId?,
 *                                                customerIdentifier? }, meteringRecordId?, status }
 * `timestamp` may be ISO 8601, a date string without zone (read as UTC), epoch seconds or ms.
 * Events of other names, and calls that failed (errorCode set, no responseElements), are skipped.
 * A bare array of events, or `{ "Records": [...] }` (CloudTrail's S3 log files), is read too.
 */
export interface CloudTrailExport {
  readonly Events?: ReadonlyArray<{ readonly EventName?: string; readonly CloudTrailEvent?: string | CloudTrailEvent }>;
}

export interface CloudTrailEvent {
  readonly eventName?: string;
  readonly errorCode?: string;
  readonly requestParameters?: { readonly productCode?: string } | null;
  readonly responseElements?: { readonly results?: readonly CloudTrailResult[] } | null;
}

export interface CloudTrailResult {
  readonly usageRecord?: AwsIdentity & { readonly timestamp?: string | number; readonly dimension?: string; readonly quantity?: number };
  readonly meteringRecordId?: string;
  readonly status?: string;
}

export function parseCloudTrail(text: string): AwsRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The CloudTrail export is not JSON: ${(error as Error).message}`);
  }
  const events = eventsOf(parsed);
  const records: AwsRecord[] = [];
  for (const event of events) {
    if (event.eventName !== 'BatchMeterUsage' || event.errorCode !== undefined) continue;
    const productCode = event.requestParameters?.productCode ?? undefined;
    for (const result of event.responseElements?.results ?? []) {
      const usage = result.usageRecord;
      if (usage?.dimension === undefined || usage.timestamp === undefined) continue;
      const customerKey = awsCustomerKey({ ...usage, ...(productCode === undefined ? {} : { productCode }) });
      if (customerKey === undefined) continue;
      const hour = hourOf(timestampOf(usage.timestamp));
      records.push({
        id: recordId(customerKey, usage.dimension, hour),
        customerKey,
        dimension: usage.dimension,
        hour,
        quantity: usage.quantity ?? 0,
        status: result.status ?? 'Success',
        ...(result.meteringRecordId === undefined ? {} : { meteringRecordId: result.meteringRecordId }),
      });
    }
  }
  return records;
}

function eventsOf(parsed: unknown): CloudTrailEvent[] {
  const list: unknown[] = Array.isArray(parsed)
    ? parsed
    : Array.isArray((parsed as { Events?: unknown })?.Events)
      ? (parsed as { Events: unknown[] }).Events
      : Array.isArray((parsed as { Records?: unknown })?.Records)
        ? (parsed as { Records: unknown[] }).Records
        : (() => {
            throw new UsageError('The CloudTrail export must be { "Events": [...] } as `aws cloudtrail lookup-events` writes it.');
          })();
  return list.map((entry) => {
    const wrapped = entry as { EventName?: string; CloudTrailEvent?: unknown };
    if (wrapped.CloudTrailEvent === undefined) return entry as CloudTrailEvent;
    const inner = typeof wrapped.CloudTrailEvent === 'string' ? (JSON.parse(wrapped.CloudTrailEvent) as CloudTrailEvent) : (wrapped.CloudTrailEvent as CloudTrailEvent);
    return { ...inner, eventName: inner.eventName ?? wrapped.EventName };
  });
}

function timestampOf(value: string | number): number {
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  if (/^\d+(\.\d+)?$/.test(value)) return timestampOf(Number(value));
  const zoned = /(Z|[+-]\d{2}:?\d{2}|UTC|GMT)$/i.test(value.trim());
  const ms = Date.parse(zoned ? value : `${value} UTC`);
  if (!Number.isFinite(ms)) throw new UsageError(`Cannot read the CloudTrail timestamp ${JSON.stringify(value)}.`);
  return ms;
}
