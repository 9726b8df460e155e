import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * One table holds everything (single-table design):
 *
 * | item             | pk                | sk                         | notes                                              |
 * |------------------|-------------------|----------------------------|----------------------------------------------------|
 * | usage record     | `R#<recordId>`    | `#`                        | tag sets as attributes (tag-sets.ts), units `u` |
 * | customer         | `C`               | `<customer key>`           | `tenantId` + `updatedAt` feed the tenant index     |
 * | batch header     | `B`               | `<createdAt>#<batchId>`    | commit point of a multi-record addUsage            |
 * | batch part       | `B#<batchId>`     | `<part number>`            | the deltas (or included uses) of that batch, JSON  |
 * | applied batch    | `A#<batchId>`     | `#`                        | a batch of included usage that was applied; TTL    |
 * | entitlement set  | `E`               | `<customer key>`           | `fetchedAt`, the set as JSON (`set`)               |
 * | allowance counter| `U#<customer key>`| `<periodStart>#<allowance dimension>` | `used`; markers `m:<batchId>` = used before |
 * | send slots       | `Q`               | `<scope>`                  | `times` (last grant times, JSON), version `v`      |
 *
 * Indexes: `unsettled` (sparse; `us` = open | pending | sending, `uk` = `<hour>#<recordId>`), the only way
 * claims find records; `byTenant` (sparse; `tenantId`, `updatedAt`).
 */
export const KEY = { partition: 'pk', sort: 'sk' } as const;
export const UNSETTLED_INDEX = 'unsettled';
export const TENANT_INDEX = 'byTenant';
export const RECORD_SK = '#';
export const CUSTOMERS_PK = 'C';
export const BATCHES_PK = 'B';
export const ENTITLEMENTS_PK = 'E';
/** One item per send quota scope: the last grant times of every instance on the table. */
export const SEND_SLOTS_PK = 'Q';
/** Attribute holding the epoch seconds after which DynamoDB's TTL may delete an item. */
export const TTL_ATTRIBUTE = 'expiresAt';

export function recordPk(recordId: string): string {
  return `R#${recordId}`;
}

export function batchPartsPk(batchId: string): string {
  return `B#${batchId}`;
}

export function appliedBatchPk(batchId: string): string {
  return `A#${batchId}`;
}

export function counterPk(customerKey: string): string {
  return `U#${customerKey}`;
}

/** Fixed-width period first: one customer's counters sort by period, and the key is unique whatever the dimension holds. */
export function counterSk(periodStart: number, allowanceDimension: string): string {
  return `${padNumber(periodStart)}#${allowanceDimension}`;
}

/** Fixed width, so that the string order of keys is the numeric order of hours and times. */
export function padNumber(value: number): string {
  return String(value).padStart(16, '0');
}

/** Sort key in the unsettled index: oldest hour first, then record id. */
export function unsettledKey(hour: number, recordId: string): string {
  return `${padNumber(hour)}#${recordId}`;
}

/** The table definition createTable() uses: on-demand capacity, the two sparse indexes. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'us', AttributeType: 'S' },
      { AttributeName: 'uk', AttributeType: 'S' },
      { AttributeName: 'tenantId', AttributeType: 'S' },
      { AttributeName: 'updatedAt', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: UNSETTLED_INDEX,
        KeySchema: [
          { AttributeName: 'us', KeyType: 'HASH' },
          { AttributeName: 'uk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: TENANT_INDEX,
        KeySchema: [
          { AttributeName: 'tenantId', KeyType: 'HASH' },
          { AttributeName: 'updatedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
