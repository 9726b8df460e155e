import type { CustomerRecord, LicenseIdentity } from '@meterkit/core';
import { customerKey } from '@meterkit/core';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

const janitor = new SchemaJanitor();
beforeAll(() => janitor.assertServerAnswers());
afterAll(() => janitor.dropAll());

const storeOn = (schema: string) => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });

function license(n: number, licenseArn: string, extra: Partial<CustomerRecord> = {}): CustomerRecord {
  const identity: LicenseIdentity = { kind: 'license', licenseArn, customerAwsAccountId: String(100000000000 + n), productCode: 'prod-pg' };
  return { key: customerKey(identity), identity, status: 'active', registeredAt: 1, updatedAt: 1, ...extra };
}

const id = (n: number) => `l-${String(n).padStart(32, '0')}`;

describe('PostgresStore customer queries', () => {
  it('migration 9 fills in the filter columns of the customers already stored, license ids whatever the ARN form', async () => {
    const schema = janitor.fresh('customers');
    const customers = [
      license(1, `arn:aws:license-manager::294406891311:license:${id(1)}`, { status: 'deprovisioning', agreementId: 'agmt-a', successorAgreementId: 'agmt-b' }),
      license(2, `arn:aws:license-manager:us-east-1:294406891311:license/${id(2)}`, { agreementId: 'agmt-a' }),
      license(3, 'arn:aws:license-manager::294406891311:license:lic-3'),
      {
        key: 'legacy:prod-pg:customer:l-4',
        identity: { kind: 'legacy' as const, productCode: 'prod-pg', customerIdentifier: 'l-4' },
        status: 'inactive' as const,
        registeredAt: 1,
        updatedAt: 1,
      },
    ];
    const first = storeOn(schema);
    await first.open();
    for (const customer of customers) await first.putCustomer(customer);
    await first.close();
    // Back to schema version 8: customers written before the columns existed.
    await janitor.admin.query(
      `ALTER TABLE "${schema}".meterkit_customers DROP COLUMN status, DROP COLUMN agreement_id, DROP COLUMN successor_agreement_id, DROP COLUMN license_id`,
    );
    await janitor.admin.query(`UPDATE "${schema}".meterkit_meta SET value = '8' WHERE key = 'schema_version'`);

    const store = storeOn(schema);
    try {
      await store.open();
      const keys = async (query: Parameters<PostgresStore['findCustomers']>[0]) => (await store.findCustomers(query)).map((c) => c.key);
      await expect(keys({ licenseId: id(1), limit: 5 })).resolves.toEqual([customers[0]!.key]);
      await expect(keys({ licenseId: id(2), limit: 5 })).resolves.toEqual([customers[1]!.key]);
      await expect(keys({ licenseId: 'l-4', limit: 5 })).resolves.toEqual([]);
      await expect(keys({ status: 'deprovisioning', limit: 5 })).resolves.toEqual([customers[0]!.key]);
      await expect(keys({ status: 'inactive', limit: 5 })).resolves.toEqual([customers[3]!.key]);
      await expect(keys({ agreementId: 'agmt-a', limit: 5 })).resolves.toEqual([customers[0]!.key, customers[1]!.key].sort());
      await expect(keys({ successorAgreementId: 'agmt-b', limit: 5 })).resolves.toEqual([customers[0]!.key]);
      const { rows } = await janitor.admin.query(`SELECT count(*)::int AS n FROM "${schema}".meterkit_customers WHERE license_id IS NOT NULL`);
      expect(rows[0].n).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('answers each filter from its index, never a scan of the table', async () => {
    const schema = janitor.fresh('customerplan');
    const store = storeOn(schema);
    await store.open();
    try {
      for (let n = 1; n <= 400; n++) {
        await store.putCustomer(
          license(n, `arn:aws:license-manager::294406891311:license:${id(n)}`, {
            status: n % 100 === 0 ? 'deprovisioning' : 'active',
            agreementId: `agmt-${n % 100}`,
            ...(n % 100 === 0 ? { successorAgreementId: `agmt-next-${n}` } : {}),
          }),
        );
      }
      await janitor.admin.query(`ANALYZE "${schema}".meterkit_customers`);
      for (const [where, index] of [
        [`status = 'deprovisioning'`, 'meterkit_customers_by_status'],
        [`agreement_id = 'agmt-1'`, 'meterkit_customers_by_agreement'],
        [`successor_agreement_id = 'agmt-next-100'`, 'meterkit_customers_by_successor'],
        [`license_id = 'l-1'`, 'meterkit_customers_by_license'],
      ]) {
        const client = await janitor.admin.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query(`EXPLAIN SELECT record, version FROM "${schema}".meterkit_customers WHERE ${where} AND key > '' ORDER BY key LIMIT 500`);
          await client.query('ROLLBACK');
          const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
          expect(plan).toContain(index);
          expect(plan).not.toContain('Seq Scan');
        } finally {
          client.release();
        }
      }
    } finally {
      await store.close();
    }
  });
});
