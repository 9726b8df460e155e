import type { CustomerRecord, CustomerWriteCondition } from '@meterkit/core';
import type { Queryable } from './transaction';
import { toCustomerRecord } from './rows';
import type { Tables } from './tables';

/** Each write is one statement: the version check and the write are atomic without a transaction. */
export async function putCustomer(client: Queryable, t: Tables, customer: CustomerRecord, condition?: CustomerWriteCondition): Promise<boolean> {
  const { version: _assigned, ...record } = customer;
  const values = [customer.key, customer.tenantId ?? null, customer.updatedAt, JSON.stringify(record)];
  if (condition === undefined) {
    await client.query(
      `INSERT INTO ${t.customers} AS c (key, tenant_id, updated_at, record, version) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (key) DO UPDATE
       SET tenant_id = excluded.tenant_id, updated_at = excluded.updated_at, record = excluded.record, version = c.version + 1`,
      values,
    );
    return true;
  }
  if (condition.expectedVersion === undefined) {
    const { rowCount } = await client.query(
      `INSERT INTO ${t.customers} (key, tenant_id, updated_at, record, version) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (key) DO NOTHING`,
      values,
    );
    return rowCount === 1;
  }
  const { rowCount } = await client.query(
    `UPDATE ${t.customers} SET tenant_id = $2, updated_at = $3, record = $4, version = version + 1
     WHERE key = $1 AND version = $5`,
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
