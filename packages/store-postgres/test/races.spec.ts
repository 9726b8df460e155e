import { describeRaceKit } from '../../core/test/races/kit';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

const janitor = new SchemaJanitor();
let schema: string | undefined;

beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

describeRaceKit('PostgresStore', {
  // A fresh schema per run on the real server, a pool per instance.
  openShared: async (count) => {
    schema = janitor.fresh('race');
    return Array.from({ length: count }, () => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 }));
  },
  dispose: async () => {
    if (schema !== undefined) await janitor.drop(schema);
    schema = undefined;
  },
});
