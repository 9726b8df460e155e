import { describeUsageStoreConformance } from '@meterkit/core/testing';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
let table = '';

beforeAll(() => dynamo.start());
beforeEach(() => {
  table = dynamo.freshTableName('conf');
});
afterAll(() => dynamo.stop());

describeUsageStoreConformance('DynamoDbStore', () => dynamo.store(table), {
  // Two stores, each with its own client, on one table.
  sharedStoreFactory: async () => [await dynamo.store(table), await dynamo.store(table)],
});
