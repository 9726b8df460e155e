import type { CustomerRecord } from '@meterkit/core';
import type { Queryable } from './transaction';
import { toCustomerRecord } from './rows';
import type { Tables } from './tables';

export async function putCustomer(client: Queryable, t: Tables, customer: CustomerRecord): Promise<void> {
  await client.query(
    `INSERT INTO ${t.customers} (key, tenant_id, updated_at, record) VALUES ($1, $2, $3, $4)
     ON CONFLICT (key) DO UPDATE
     SET tenant_id = excluded.tenant_id, updated_at = excluded.updated_at, record = excluded.record`,
    [customer.key, customer.tenantId ?? null, customer.updatedAt, JSON.stringify(customer)],
  );
}

export async function getCustomer(client: Queryable, t: Tables, key: string): Promise<CustomerRecord | undefined> {
  const { rows } = await client.query<{ record: string }>(`SELECT record FROM ${t.customers} WHERE key = $1`, [key]);
  return rows[0] === undefined ? undefined : toCustomerRecord(rows[0]);
}

export async function findCustomerByTenant(client: Queryable, t: Tables, tenantId: string): Promise<CustomerRecord | undefined> {
  const { rows } = await client.query<{ record: string }>(
    `SELECT record FROM ${t.customers} WHERE tenant_id = $1 ORDER BY updated_at DESC, key LIMIT 1`,
    [tenantId],
  );
  return rows[0] === undefined ? undefined : toCustomerRecord(rows[0]);
}

export async function listCustomers(client: Queryable, t: Tables): Promise<CustomerRecord[]> {
  const { rows } = await client.query<{ record: string }>(`SELECT record FROM ${t.customers} ORDER BY key`);
  return rows.map(toCustomerRecord);
}
