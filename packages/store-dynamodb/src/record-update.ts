import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { n, s } from './record-item';
import type { Item } from './record-item';
import type { RecordWrite } from './record-writes';
import { UNITS_ATTRIBUTE } from './tag-budget';
import type { TagPlan } from './tag-budget';
import { RECORD_SK, recordPk, unsettledKey } from './table-layout';

/** Name of the attribute that marks a write as applied to a record: a retried write finds it and stops. */
export function markerAttribute(writeId: string, part = 0): string {
  return part === 0 ? `m:${writeId}` : `m:${writeId}#${part}`;
}

/**
 * One UpdateItem adding a write to its record, its tag sets as `plan` places them: atomic because it is one item.
 * `open` expects the record missing or open (and keeps it open, in the unsettled index); otherwise it expects
 * a frozen record and only adds to its live total. The marker makes the write apply at most once; the units
 * condition keeps the record's tag sets within their budget.
 */
export function recordUpdate(
  write: RecordWrite,
  plan: TagPlan,
  expectOpen: boolean,
  writeId: string,
  staleMarkers: readonly string[],
): Omit<UpdateItemCommandInput, 'TableName'> {
  const names: Record<string, string> = { '#state': 'state', '#marker': markerAttribute(writeId, write.part) };
  const values: Item = { ':q': n(write.quantity), ':one': n(1), ':open': s('open') };
  const sets = ['#marker = :one'];
  const adds = ['quantity :q', 'version :one'];
  let index = 0;
  for (const { tags, quantity, attributes } of plan.allocations.values()) {
    names[`#a${index}`] = attributes.quantity;
    values[`:a${index}`] = n(quantity);
    adds.push(`#a${index} :a${index}`);
    if (tags !== undefined) {
      names[`#t${index}`] = attributes.tags;
      values[`:t${index}`] = s(JSON.stringify(tags));
      sets.push(`#t${index} = :t${index}`);
    }
    index += 1;
  }
  if (expectOpen) {
    const d = write.first;
    Object.assign(names, { '#hour': 'hour', '#source': 'source', '#customer': 'customer', '#dimension': 'dimension' });
    Object.assign(values, {
      ':id': s(write.id),
      ':ck': s(d.customerKey),
      ':pc': s(d.productCode),
      ':customer': s(JSON.stringify(d.customer)),
      ':dimension': s(d.dimension),
      ':hour': n(d.hour),
      ':metered': s('metered'),
      ':zero': n(0),
      ':uk': s(unsettledKey(d.hour, write.id)),
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
  let condition = expectOpen
    ? '(attribute_not_exists(pk) OR #state = :open) AND attribute_not_exists(#marker)'
    : 'attribute_exists(pk) AND #state <> :open AND attribute_not_exists(#marker)';
  if (plan.units.length > 0) {
    names['#units'] = UNITS_ATTRIBUTE;
    values[':units'] = { SS: plan.units };
    values[':maxUnits'] = n(plan.maxUnitsBefore);
    adds.push('#units :units');
    condition += ' AND (attribute_not_exists(#units) OR size(#units) <= :maxUnits)';
  }
  return {
    Key: { pk: s(recordPk(write.id)), sk: s(RECORD_SK) },
    UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}${removes.length === 0 ? '' : ` REMOVE ${removes.join(', ')}`}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'NONE',
  };
}
