import { describeUsageStoreConformance } from '@meterkit/core/testing';
import type { UsageStore } from '@meterkit/core';
import type { Pool } from 'pg';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor, testPool } from './support/database';

const janitor = new SchemaJanitor();
/** The schema of the current test: every test starts on an empty one. */
let schema = '';
/** Pools the shared handles were given: the stores do not own them, the test ends them. */
const givenPools = new WeakMap<UsageStore, Pool>();

beforeAll(() => janitor.assertServerAnswers());
beforeEach(() => {
  schema = janitor.fresh('conf');
});
afterEach(() => janitor.drop(schema));
afterAll(() => janitor.dropAll());

describeUsageStoreConformance(
  'PostgresStore',
  () => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 }),
  {
    sharedStoreFactory: async () => {
      const handle = () => {
        const pool = testPool(3);
        const store = new PostgresStore({ pool, schema });
        givenPools.set(store, pool);
        return store;
      };
      return [handle(), handle()];
    },
    cleanup: async (store) => {
      await givenPools.get(store)?.end();
    },
  },
);
