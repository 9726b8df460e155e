import { customerLicenseId, type CustomerFilter, type CustomerQuery, type CustomerRecord, type CustomerWriteCondition } from '@meterkit/core';
import type { Queryable } from './transaction';
import { toCustomerRecord } from './rows';
import type { Tables } from './tables';

/** Each write is one statement: the version check and the write are atomic without a transaction. */
export async function putCustomer(client: Queryable, t: Tables, customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
  const { version: _assigned, ...record } = customer;
  const values = [
    customer.key,
    customer.tenantId ?? null,
    customer.updatedAt,
    JSON.stringify(record),
    customer.status,
    customer.agreementId ?? null,
    customer.successorAgreementId ?? null,
    customerLicenseId(customer) ?? null,
  ];
  const columns = 'key, tenant_id, updated_at, record, status, agreement_id, successor_agreement_id, license_id, version';
  if (condition === undefined) {
    await client.query(
      `INSERT INTO ${t.customers} AS c (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
       ON CONFLICT (key) DO UPDATE
       SET tenant_id = excluded.tenant_id, updated_at = excluded.updated_at, record = excluded.record, status = excluded.status,
           agreement_id = excluded.agreement_id, successor_agreement_id = excluded.successor_agreement_id, license_id = excluded.license_id,
           version = c.version + 1`,
      values,
    );
    return true;
  }
  if (condition.expectedVersion === undefined) {
    const { rowCount } = await client.query(
      `INSERT INTO ${t.customers} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
       ON CONFLICT (key) DO NOTHING`,
      values,
    );
    return rowCount === 1;
  }
  const { rowCount } = await client.query(
    `UPDATE ${t.customers} SET tenant_id = $2, updated_at = $3, record = $4, status = $5, agreement_id = $6, successor_agreement_id = $7,
       license_id = $8, version = version + 1
     WHERE key = $1 AND version = $9`,
    [...values, condition.expectedVersion],
  );
  return rowCount === 1;
}

const COLUMNS = 'record, version';

export async function getCustomer(client: Queryable, t: Tables, key: string): Promise<CustomerRecord | undefined> {
  const { rows } = await client.query<{ record: string; version: string }>(`SELECT ${COLUMNS} FROM ${t.customers} WHERE key = $1`, [key]);
  return rows[0] === undefined ? undefined : toCustomerRecord(rows[0]);
}

export async function findCustomerByTenant(client: Queryable, t: Tables, tenantId: string): Promise<CustomerRecord | undefined> {
  const { rows } = await client.query<{ record: string; version: string }>(
    `SELECT ${COLUMNS} FROM ${t.customers} WHERE tenant_id = $1 ORDER BY updated_at DESC, key LIMIT 1`,
    [tenantId],
  );
  return rows[0] === undefined ? undefined : toCustomerRecord(rows[0]);
}

export async function listCustomers(client: Queryable, t: Tables): Promise<CustomerRecord[]> {
  const { rows } = await client.query<{ record: string; version: string }>(`SELECT ${COLUMNS} FROM ${t.customers} ORDER BY key`);
  return rows.map(toCustomerRecord);
}

/** Each filter as the indexed column it is answered from (schema migration 9). */
const FILTER_COLUMNS: ReadonlyArray<readonly [keyof CustomerFilter, string]> = [
  ['status', 'status'],
  ['agreementId', 'agreement_id'],
  ['successorAgreementId', 'successor_agreement_id'],
  ['licenseId', 'license_id'],
];

/** One page of findCustomers(), walking an index in key order. */
export async function findCustomers(client: Queryable, t: Tables, query: CustomerQuery): Promise<CustomerRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  for (const [field, column] of FILTER_COLUMNS) {
    const value = query[field];
    if (value === undefined) continue;
    values.push(value);
    where.push(`${column} = $${values.length}`);
  }
  if (query.after !== undefined) {
    values.push(query.after);
    where.push(`key > $${values.length}`);
  }
  values.push(Math.max(0, Math.trunc(query.limit)));
  const { rows } = await client.query<{ record: string; version: string }>(
    `SELECT ${COLUMNS} FROM ${t.customers} ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY key LIMIT $${values.length}`,
    values,
  );
  return rows.map(toCustomerRecord);
}
