import { describeLifecycleRace } from '../../../tools/testing/lifecycle-race/lifecycle-race';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();
beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

describeLifecycleRace('DynamoDbStore', {
  // Each instance with its own client on one table.
  handles: async (count) => {
    const table = dynamo.freshTableName('race');
    const handles = [];
    for (let i = 0; i < count; i++) handles.push(await dynamo.store(table));
    return handles;
  },
});
