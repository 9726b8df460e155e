export { DynamoDbStore } from './dynamodb-store';
export type { DynamoDbStoreOptions } from './options';
export { tableDefinition } from './table-layout';
