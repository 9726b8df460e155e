import { customerKey, tagsKey } from '@meterkit/core';
import type { EntitlementSet, IncludedUse, LicenseIdentity } from '@meterkit/core';
import fc from 'fast-check';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const HOUR = Date.UTC(2026, 6, 15, 10);
const storeOn = (schema: string) => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 });

function license(n: number): LicenseIdentity {
  return {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::294406891311:license:l-${String(n).padStart(32, '0')}`,
    customerAwsAccountId: String(100000000000 + n),
    productCode: 'prod-pg',
  };
}

function use(customer: LicenseIdentity, quantity: number, included: number): IncludedUse {
  return {
    delta: { customer, customerKey: customerKey(customer), productCode: customer.productCode, dimension: 'api_calls', hour: HOUR, tagsKey: tagsKey(undefined), quantity },
    allowanceDimension: 'api_calls',
    periodStart: HOUR,
    included,
  };
}

function set(customer: LicenseIdentity, fetchedAt: number, seats: number): EntitlementSet {
  return {
    customerKey: customerKey(customer),
    productCode: customer.productCode,
    entitlements: [{ dimension: 'seats', value: seats, valueType: 'integer' }],
    fetchedAt,
    trigger: `event:${seats}`,
  };
}

describe('PostgresStore entitlements under concurrent writers', () => {
  const schema = janitor.fresh('ent');
  const handles = [storeOn(schema), storeOn(schema), storeOn(schema)];
  let run = 0;
  beforeAll(async () => {
    for (const handle of handles) await handle.open();
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
  });

  // Invariant: however batches from several instances interleave, and whatever batches are written again under
  // their id, the counter holds every unit of the distinct batches once, the record holds exactly the units the
  // applied calls answered as metered, and that is max(0, total − included) when the included amount never changed.
  it('meters exactly the usage above the included units, once per batch id', async () => {
    const batch = fc.record({
      handle: fc.nat({ max: handles.length - 1 }),
      quantities: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }),
      resentBy: fc.option(fc.nat({ max: handles.length - 1 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 40 }), async (batches, included) => {
        const customer = license(1000 + run++);
        const calls = batches.flatMap((b, i) => {
          const uses = b.quantities.map((q) => use(customer, q, included));
          const call = (h: number) => () => handles[h]!.addUsageAboveIncluded([], uses, `run-${run}-b${i}`);
          return b.resentBy === undefined ? [call(b.handle)] : [call(b.handle), call(b.resentBy)];
        });
        const results = await Promise.all(calls.map((call) => call()));
        const total = batches.flatMap((b) => b.quantities).reduce((sum, q) => sum + q, 0);
        const applied = results.filter((r) => r.applied !== false);
        expect(applied).toHaveLength(batches.length);
        const metered = applied.flatMap((r) => r.metered).reduce((sum, m) => sum + m, 0);
        expect(metered).toBe(Math.max(0, total - included));
        const counters = await handles[0]!.listAllowanceCounters(customerKey(customer));
        expect(counters.map((c) => c.used)).toEqual([total]);
        const records = await handles[1]!.listRecords({ customerKey: customerKey(customer) });
        expect(records.reduce((sum, r) => sum + r.quantity, 0)).toBe(metered);
      }),
      { numRuns: 15 },
    );
  });

  // Invariant: the stored set is the first-arriving one of those fetched last, and it is the one whose write answered true
  // among them; every older set is refused once a newer one is stored.
  it('keeps the newest set whatever order concurrent instances store them in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ fetchedAt: fc.integer({ min: 0, max: 6 }), handle: fc.nat({ max: handles.length - 1 }) }), { minLength: 1, maxLength: 10 }), async (writes) => {
        const customer = license(5000 + run++);
        const sets = writes.map((w, i) => set(customer, HOUR + w.fetchedAt, i));
        const answers = await Promise.all(sets.map((s, i) => handles[writes[i]!.handle]!.putEntitlements(s)));
        const newest = Math.max(...sets.map((s) => s.fetchedAt));
        const winners = sets.filter((s, i) => answers[i] && s.fetchedAt === newest);
        expect(winners).toHaveLength(1);
        await expect(handles[2]!.getEntitlements(customerKey(customer))).resolves.toEqual(winners[0]);
      }),
      { numRuns: 15 },
    );
  });
});

describe('PostgresStore migration to the entitlement tables', () => {
  it('upgrades a schema of version 4, keeping its usage, and stores entitlements afterwards', async () => {
    const schema = janitor.fresh('ent_mig');
    const first = storeOn(schema);
    await first.open();
    await first.addUsage([use(license(1), 3, 0).delta]);
    await first.close();
    await janitor.admin.query(`DROP TABLE "${schema}".meterkit_entitlements, "${schema}".meterkit_allowance_counters`);
    await janitor.admin.query(`DROP INDEX "${schema}".meterkit_usage_records_pending, "${schema}".meterkit_usage_records_leases, "${schema}".meterkit_usage_records_open`);
    await janitor.admin.query(`UPDATE "${schema}".meterkit_meta SET value = '4' WHERE key = 'schema_version'`);

    const store = storeOn(schema);
    try {
      await store.open();
      expect((await store.listRecords()).map((r) => r.quantity)).toEqual([3]);
      await expect(store.putEntitlements(set(license(1), HOUR, 5))).resolves.toBe(true);
      await expect(store.addUsageAboveIncluded([], [use(license(1), 4, 3)], 'after-migration')).resolves.toMatchObject({ metered: [1] });
      expect((await store.listRecords()).map((r) => r.quantity)).toEqual([4]);
    } finally {
      await store.close();
    }
  });
});
