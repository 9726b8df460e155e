import type { AllowanceAddition } from '@meterkit/core';
import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { n, s } from './record-item';
import { markerAttribute } from './record-update';
import { counterPk, counterSk, RECORD_SK } from './table-layout';

/** One allowance counter a batch adds to, with the sum of the batch's uses of it. */
export type CounterAddition = AllowanceAddition;

export function counterKey(counter: CounterAddition): { pk: { S: string }; sk: { S: string } } {
  return { pk: s(counterPk(counter.customerKey)) as { S: string }, sk: s(counterSk(counter.periodStart, counter.allowanceDimension)) as { S: string } };
}

/** Key of the counter in the writer's list of markers to remove (records use their id). */
export function counterMarkerKey(counter: CounterAddition): string {
  return `${counterPk(counter.customerKey)}${RECORD_SK}${counterSk(counter.periodStart, counter.allowanceDimension)}`;
}

/**
 * One UpdateItem adding a batch's uses to a counter, at most once per batch: it keeps, under the batch's marker, the
 * value the counter had before (every operand of an update expression reads the item as it was before it), so that
 * a retry or a recovery that finds the marker knows exactly what the batch's uses added to and meters the same parts.
 */
export function counterUpdate(counter: CounterAddition, batchId: string, staleMarkers: readonly string[]): Omit<UpdateItemCommandInput, 'TableName'> {
  const names: Record<string, string> = {
    '#marker': markerAttribute(batchId),
    '#used': 'used',
    '#customerKey': 'customerKey',
    '#dimension': 'allowanceDimension',
    '#period': 'periodStart',
  };
  const removes = staleMarkers.map((marker, i) => {
    names[`#old${i}`] = marker;
    return `#old${i}`;
  });
  return {
    Key: counterKey(counter),
    UpdateExpression:
      'SET #marker = if_not_exists(#used, :zero), #used = if_not_exists(#used, :zero) + :q, ' +
      `#customerKey = :ck, #dimension = :dimension, #period = :period${removes.length === 0 ? '' : ` REMOVE ${removes.join(', ')}`}`,
    ConditionExpression: 'attribute_not_exists(#marker)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: {
      ':zero': n(0),
      ':q': n(counter.quantity),
      ':ck': s(counter.customerKey),
      ':dimension': s(counter.allowanceDimension),
      ':period': n(counter.periodStart),
    },
    ReturnValues: 'ALL_NEW',
  };
}
