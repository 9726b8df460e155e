import { describeLifecycleRace } from '../../../tools/testing/lifecycle-race/lifecycle-race';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

describeLifecycleRace('PostgresStore', {
  handles: async (count) => {
    const schema = janitor.fresh('race');
    return Array.from({ length: count }, () => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 }));
  },
});
