import { recordId } from '@meterkit/core';
import type { Tags, UsageDelta } from '@meterkit/core';
import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { allocationAttributes, n, s } from './record-item';
import type { Item } from './record-item';
import { RECORD_SK, recordPk, unsettledKey } from './table-layout';

/** All deltas of one batch that reach one record, summed per tag set. */
export interface RecordGroup {
  readonly id: string;
  readonly first: UsageDelta;
  readonly deltas: UsageDelta[];
  quantity: number;
  readonly allocations: Map<string, { tags: Tags | undefined; quantity: number }>;
}

export function groupByRecord(deltas: readonly UsageDelta[]): RecordGroup[] {
  const groups = new Map<string, RecordGroup>();
  for (const delta of deltas) {
    const id = recordId(delta.customerKey, delta.dimension, delta.hour);
    let group = groups.get(id);
    if (group === undefined) {
      group = { id, first: delta, deltas: [], quantity: 0, allocations: new Map() };
      groups.set(id, group);
    }
    group.deltas.push(delta);
    group.quantity += delta.quantity;
    const allocation = group.allocations.get(delta.tagsKey) ?? { tags: delta.tags, quantity: 0 };
    allocation.quantity += delta.quantity;
    group.allocations.set(delta.tagsKey, allocation);
  }
  return [...groups.values()];
}

/** Name of the attribute that marks a write as applied to a record: a retried write finds it and stops. */
export function markerAttribute(writeId: string): string {
  return `m:${writeId}`;
}

/**
 * One UpdateItem adding a group to its record, all tag sets included: atomic because it is one item.
 * `open` expects the record missing or open (and keeps it open, in the unsettled index); otherwise it expects
 * a frozen record and only adds to its live total. The marker makes the write apply at most once.
 */
export function recordUpdate(
  group: RecordGroup,
  expectOpen: boolean,
  writeId: string,
  staleMarkers: readonly string[],
): Omit<UpdateItemCommandInput, 'TableName'> {
  const names: Record<string, string> = { '#state': 'state', '#marker': markerAttribute(writeId) };
  const values: Item = { ':q': n(group.quantity), ':one': n(1), ':open': s('open') };
  const sets = ['#marker = :one'];
  const adds = ['quantity :q', 'version :one'];
  let index = 0;
  for (const [tagsKey, allocation] of group.allocations) {
    const attributes = allocationAttributes(tagsKey);
    names[`#a${index}`] = attributes.quantity;
    values[`:a${index}`] = n(allocation.quantity);
    adds.push(`#a${index} :a${index}`);
    if (allocation.tags !== undefined) {
      names[`#t${index}`] = attributes.tags;
      values[`:t${index}`] = s(JSON.stringify(allocation.tags));
      sets.push(`#t${index} = :t${index}`);
    }
    index += 1;
  }
  if (expectOpen) {
    const d = group.first;
    Object.assign(names, { '#hour': 'hour', '#source': 'source', '#customer': 'customer', '#dimension': 'dimension' });
    Object.assign(values, {
      ':id': s(group.id),
      ':ck': s(d.customerKey),
      ':pc': s(d.productCode),
      ':customer': s(JSON.stringify(d.customer)),
      ':dimension': s(d.dimension),
      ':hour': n(d.hour),
      ':metered': s('metered'),
      ':zero': n(0),
      ':uk': s(unsettledKey(d.hour, group.id)),
    });
    sets.push(
      'id = :id',
      'customerKey = :ck',
      'productCode = :pc',
      '#customer = :customer',
      '#dimension = :dimension',
      '#hour = :hour',
      '#state = :open',
      '#source = :metered',
      'attempts = if_not_exists(attempts, :zero)',
      'us = :open',
      'uk = :uk',
    );
  }
  const removes = staleMarkers.map((marker, i) => {
    names[`#old${i}`] = marker;
    return `#old${i}`;
  });
  const condition = expectOpen
    ? '(attribute_not_exists(pk) OR #state = :open) AND attribute_not_exists(#marker)'
    : 'attribute_exists(pk) AND #state <> :open AND attribute_not_exists(#marker)';
  return {
    Key: { pk: s(recordPk(group.id)), sk: s(RECORD_SK) },
    UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}${removes.length === 0 ? '' : ` REMOVE ${removes.join(', ')}`}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'NONE',
  };
}
