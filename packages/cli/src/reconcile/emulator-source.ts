import { recordId } from '@meterkit/core';
import { UsageError } from '../io';
import { awsCustomerKey, type AwsIdentity, type AwsRecord } from './aws-records';

interface EmulatorRecord extends AwsIdentity {
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: number;
  readonly meteringRecordId?: string;
}

/** The records the emulator accepted, from `GET <url>/_emulator/records`. */
export async function fetchEmulatorRecords(url: string): Promise<AwsRecord[]> {
  const response = await fetch(new URL('/_emulator/records', url));
  if (!response.ok) throw new UsageError(`GET ${url}/_emulator/records answered ${response.status}.`);
  const rows = (await response.json()) as EmulatorRecord[];
  return rows.flatMap((row) => {
    const customerKey = awsCustomerKey(row);
    if (customerKey === undefined) return [];
    return [
      {
        id: recordId(customerKey, row.dimension, row.hour),
        customerKey,
        dimension: row.dimension,
        hour: row.hour,
        quantity: row.quantity,
        status: 'Success',
        ...(row.meteringRecordId === undefined ? {} : { meteringRecordId: row.meteringRecordId }),
      },
    ];
  });
}
