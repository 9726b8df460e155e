import { describeRaceKit } from '../../core/test/races/kit';
import { LocalDynamo } from './support/dynalite';

const dynamo = new LocalDynamo();

beforeAll(() => dynamo.start());
afterAll(() => dynamo.stop());

describeRaceKit('DynamoDbStore', {
  // A fresh table per run on dynalite, a client per instance.
  openShared: async (count) => {
    const table = dynamo.freshTableName('race');
    const stores = [];
    for (let i = 0; i < count; i++) stores.push(await dynamo.store(table));
    return stores;
  },
});
