import type { CustomerQuery, UsageStore } from '../usage-store';
import type { CustomerIdentity, CustomerRecord, LicenseIdentity } from '../../model/customer';
import { getRecord } from './context';
import {
  claimRequest,
  customerRecord,
  delta,
  finalTotal,
  hour,
  idOf,
  legacyAccountIdentity,
  legacyIdentifierIdentity,
  licenseIdentity,
  T0,
} from './fixtures';

const identities: readonly [string, CustomerIdentity, CustomerIdentity][] = [
  ['license', licenseIdentity(1), licenseIdentity(2)],
  ['legacy customer identifier', legacyIdentifierIdentity(1), legacyIdentifierIdentity(2)],
  ['legacy account id', legacyAccountIdentity(1), legacyAccountIdentity(2)],
];

/** findCustomers(), failing with a clear message for a store without it. */
function find(store: UsageStore, query: CustomerQuery): Promise<CustomerRecord[]> {
  if (store.findCustomers === undefined) throw new Error(`the ${store.kind} store has no findCustomers() (pass { findCustomers: false } to skip these tests)`);
  return store.findCustomers(query);
}

/** Every page of a query, `limit` customers at a time, joined: the keys in order. */
async function pagedKeys(store: UsageStore, query: Omit<CustomerQuery, 'limit' | 'after'>, limit: number): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await find(store, { ...query, ...(after === undefined ? {} : { after }), limit });
    expect(page.length).toBeLessThanOrEqual(limit);
    keys.push(...page.map((customer) => customer.key));
    if (page.length < limit) return keys;
    after = page[page.length - 1]!.key;
  }
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function licenseWithArn(licenseArn: string, n: number): LicenseIdentity {
  return { ...licenseIdentity(n), licenseArn };
}

export function describeFindCustomers(store: () => UsageStore): void {
  describe('customer queries (findCustomers)', () => {
    it('pages through every customer in key order, each page after the last key of the one before', async () => {
      const all = [1, 2, 3, 4, 5, 6, 7].map((n) => customerRecord(n % 2 === 0 ? licenseIdentity(n) : legacyIdentifierIdentity(n)));
      for (const customer of all) await store().putCustomer(customer);
      const keys = all.map((customer) => customer.key).sort(byKey);
      await expect(pagedKeys(store(), {}, 3)).resolves.toEqual(keys);
      await expect(pagedKeys(store(), {}, 7)).resolves.toEqual(keys);
      const first = await find(store(), { limit: 2 });
      expect(first).toStrictEqual([0, 1].map((i) => ({ ...all.find((c) => c.key === keys[i])!, version: 1 })));
      await expect(find(store(), { after: keys[6]!, limit: 5 })).resolves.toEqual([]);
      await expect(find(store(), { after: '', limit: 1 })).resolves.toMatchObject([{ key: keys[0] }]);
    });

    it('answers nothing on an empty registry', async () => {
      await expect(find(store(), { limit: 10 })).resolves.toEqual([]);
      await expect(find(store(), { status: 'active', limit: 10 })).resolves.toEqual([]);
    });

    it('finds customers by status, agreement, successor agreement and license id, each page in key order', async () => {
      const customers = [
        customerRecord(licenseIdentity(1), { status: 'deprovisioning', agreementId: 'agmt-a', successorAgreementId: 'agmt-b' }),
        customerRecord(licenseIdentity(2), { status: 'active', agreementId: 'agmt-a' }),
        customerRecord(licenseIdentity(3), { status: 'deprovisioning', agreementId: 'agmt-c' }),
        customerRecord(legacyIdentifierIdentity(1), { status: 'deprovisioning' }),
        customerRecord(legacyAccountIdentity(1), { status: 'inactive', agreementId: 'agmt-a', successorAgreementId: 'agmt-b' }),
        customerRecord(licenseIdentity(4), { status: 'registered' }),
      ];
      for (const customer of customers) await store().putCustomer(customer);
      const expected = (keep: (c: CustomerRecord) => boolean): string[] => customers.filter(keep).map((c) => c.key).sort(byKey);

      await expect(pagedKeys(store(), { status: 'deprovisioning' }, 2)).resolves.toEqual(expected((c) => c.status === 'deprovisioning'));
      await expect(pagedKeys(store(), { status: 'active' }, 2)).resolves.toEqual(expected((c) => c.status === 'active'));
      await expect(pagedKeys(store(), { agreementId: 'agmt-a' }, 1)).resolves.toEqual(expected((c) => c.agreementId === 'agmt-a'));
      await expect(pagedKeys(store(), { successorAgreementId: 'agmt-b' }, 5)).resolves.toEqual(expected((c) => c.successorAgreementId === 'agmt-b'));
      await expect(pagedKeys(store(), { licenseId: `l-${'3'.padStart(32, '0')}` }, 5)).resolves.toEqual([customers[2]!.key]);
      await expect(pagedKeys(store(), { agreementId: 'agmt-a', status: 'inactive' }, 5)).resolves.toEqual([customers[4]!.key]);
      await expect(pagedKeys(store(), { agreementId: 'agmt-z' }, 5)).resolves.toEqual([]);
      await expect(pagedKeys(store(), { status: 'deprovisioning', agreementId: 'agmt-a', successorAgreementId: 'agmt-x' }, 5)).resolves.toEqual([]);
      const [first] = await find(store(), { successorAgreementId: 'agmt-b', limit: 1 });
      expect(first).toStrictEqual({ ...customers.filter((c) => c.successorAgreementId === 'agmt-b').sort((a, b) => byKey(a.key, b.key))[0], version: 1 });
    });

    it('finds a license by the id its ARN ends with, whatever form the ARN has, never a legacy customer', async () => {
      const id = 'l-0123456789abcdef0123456789abcdef';
      const printed = customerRecord(licenseWithArn(`arn:aws:license-manager::294406891311:license:${id}`, 1));
      const regional = customerRecord(licenseWithArn(`arn:aws:license-manager:us-east-1:294406891311:license/${id}`, 2));
      const other = customerRecord(licenseWithArn('arn:aws:license-manager::294406891311:license:l-ffff', 3));
      const noId = customerRecord(licenseWithArn('arn:aws:license-manager::294406891311:license:lic-0123', 4));
      const legacy = customerRecord({ kind: 'legacy', productCode: printed.identity.productCode, customerIdentifier: id });
      for (const customer of [printed, regional, other, noId, legacy]) await store().putCustomer(customer);
      await expect(pagedKeys(store(), { licenseId: id }, 1)).resolves.toEqual([printed.key, regional.key].sort(byKey));
      await expect(pagedKeys(store(), { licenseId: 'l-ffff' }, 5)).resolves.toEqual([other.key]);
      await expect(pagedKeys(store(), { licenseId: 'l-0123' }, 5)).resolves.toEqual([]);
      await expect(pagedKeys(store(), { licenseId: 'lic-0123' }, 5)).resolves.toEqual([]);
    });

    it('follows every write: a customer leaves the answers it no longer matches and joins the new ones, conditional writes included', async () => {
      const customer = customerRecord(licenseIdentity(1), { status: 'active', agreementId: 'agmt-a' });
      await store().putCustomer(customer);
      await store().putCustomer({ ...customer, status: 'deprovisioning', successorAgreementId: 'agmt-b' }, { expectedVersion: 1 });
      await expect(pagedKeys(store(), { status: 'active' }, 5)).resolves.toEqual([]);
      await expect(pagedKeys(store(), { status: 'deprovisioning' }, 5)).resolves.toEqual([customer.key]);
      await expect(pagedKeys(store(), { successorAgreementId: 'agmt-b' }, 5)).resolves.toEqual([customer.key]);
      // A write that lost its condition changes no answer.
      await store().putCustomer({ ...customer, status: 'inactive', agreementId: 'agmt-z' }, { expectedVersion: 1 });
      await expect(pagedKeys(store(), { agreementId: 'agmt-z' }, 5)).resolves.toEqual([]);
      const { successorAgreementId: _dropped, ...withoutSuccessor } = customer;
      await store().putCustomer({ ...withoutSuccessor, status: 'inactive', agreementId: 'agmt-c' });
      await expect(pagedKeys(store(), { successorAgreementId: 'agmt-b' }, 5)).resolves.toEqual([]);
      await expect(pagedKeys(store(), { agreementId: 'agmt-a' }, 5)).resolves.toEqual([]);
      await expect(pagedKeys(store(), { agreementId: 'agmt-c', status: 'inactive' }, 5)).resolves.toEqual([customer.key]);
      await expect(find(store(), { agreementId: 'agmt-c', limit: 5 })).resolves.toStrictEqual([{ ...withoutSuccessor, status: 'inactive', agreementId: 'agmt-c', version: 3 }]);
    });

    it('returns copies that callers cannot change the store through', async () => {
      const customer = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1' });
      await store().putCustomer(customer);
      const [read] = (await find(store(), { status: 'active', limit: 1 })) as Array<{ tenantId?: string }>;
      read!.tenantId = 'changed';
      await expect(find(store(), { limit: 1 })).resolves.toStrictEqual([{ ...customer, version: 1 }]);
    });
  });
}

export function describeCustomers(store: () => UsageStore): void {
  describe('customer registry', () => {
    it.each(identities)('round-trips every field of a %s customer', async (_, identity, other) => {
      const full = customerRecord(identity, {
        status: 'deprovisioning',
        tenantId: 'tenant-1',
        agreementId: 'agmt-0123456789abcdef',
        region: 'us-east-1',
        registeredAt: T0 + 1,
        updatedAt: T0 + 2,
        finalUsageDeadline: T0 + 3,
        finalUsageOpenedAt: [T0 - 4, T0 - 3],
        lastActivationAt: T0 - 5,
        lastStatusEventAt: T0 - 3,
        lastEventAt: T0 - 2,
        recentEventIds: ['event-1', 'event-2'],
      });
      const minimal = customerRecord(other, { status: 'registered' });
      await store().putCustomer(full);
      await store().putCustomer(minimal);
      await expect(store().getCustomer(full.key)).resolves.toStrictEqual({ ...full, version: 1 });
      await expect(store().getCustomer(minimal.key)).resolves.toStrictEqual({ ...minimal, version: 1 });
    });

    it('replaces a customer with the same key', async () => {
      const first = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1', region: 'us-east-1' });
      const second = customerRecord(licenseIdentity(1), { status: 'inactive', updatedAt: T0 + 10 });
      await store().putCustomer(first);
      await store().putCustomer(second);
      await expect(store().getCustomer(first.key)).resolves.toStrictEqual({ ...second, version: 2 });
      await expect(store().listCustomers()).resolves.toHaveLength(1);
      await expect(store().findCustomerByTenant('tenant-1')).resolves.toBeUndefined();
    });

    it('answers undefined for an unknown customer or tenant', async () => {
      await expect(store().getCustomer('license:unknown')).resolves.toBeUndefined();
      await expect(store().findCustomerByTenant('tenant-unknown')).resolves.toBeUndefined();
    });

    it('finds a customer by tenant, the most recently updated when a tenant has several', async () => {
      const older = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1', updatedAt: T0 + 1 });
      const newer = customerRecord(licenseIdentity(2), { tenantId: 'tenant-1', updatedAt: T0 + 5 });
      const other = customerRecord(licenseIdentity(3), { tenantId: 'tenant-2', updatedAt: T0 + 9 });
      await store().putCustomer(newer);
      await store().putCustomer(older);
      await store().putCustomer(other);
      await expect(store().findCustomerByTenant('tenant-1')).resolves.toStrictEqual({ ...newer, version: 1 });
      await expect(store().findCustomerByTenant('tenant-2')).resolves.toStrictEqual({ ...other, version: 1 });

      await store().putCustomer({ ...older, updatedAt: T0 + 7 });
      await expect(store().findCustomerByTenant('tenant-1')).resolves.toStrictEqual({ ...older, updatedAt: T0 + 7, version: 2 });
    });

    it('lists customers ordered by key', async () => {
      const all = [licenseIdentity(2), legacyAccountIdentity(1), licenseIdentity(1), legacyIdentifierIdentity(1)].map(
        (identity) => customerRecord(identity),
      );
      for (const customer of all) await store().putCustomer(customer);
      const keys = all.map((customer) => customer.key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect((await store().listCustomers()).map((customer) => customer.key)).toEqual(keys);
    });

    it('returns copies that callers cannot change the store through', async () => {
      const customer = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1' });
      await store().putCustomer(customer);
      const read = (await store().getCustomer(customer.key)) as { tenantId?: string };
      read.tenantId = 'changed';
      await expect(store().getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, version: 1 });
    });

    it('assigns the version itself: 1 when created, one more on every write, whatever the caller passes', async () => {
      const customer = customerRecord(licenseIdentity(1));
      await expect(store().putCustomer({ ...customer, version: 41 })).resolves.toBe(true);
      await expect(store().getCustomer(customer.key)).resolves.toMatchObject({ version: 1 });
      await expect(store().putCustomer({ ...customer, status: 'inactive', version: 7 })).resolves.toBe(true);
      await expect(store().getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, status: 'inactive', version: 2 });
    });

    it('creates conditionally only a customer that does not exist', async () => {
      const customer = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1' });
      await expect(store().putCustomer(customer, { expectedVersion: undefined })).resolves.toBe(true);
      await expect(store().putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: undefined })).resolves.toBe(false);
      await expect(store().getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, version: 1 });
    });

    it('writes conditionally only over the version read, and changes nothing otherwise', async () => {
      const customer = customerRecord(licenseIdentity(1), { tenantId: 'tenant-1' });
      await store().putCustomer(customer);
      const read = await store().getCustomer(customer.key);
      await expect(store().putCustomer({ ...customer, status: 'deprovisioning' }, { expectedVersion: read?.version })).resolves.toBe(true);
      for (const stale of [0, 1, 3]) {
        await expect(store().putCustomer({ ...customer, status: 'inactive', tenantId: 'tenant-2' }, { expectedVersion: stale })).resolves.toBe(false);
      }
      await expect(store().putCustomer(customerRecord(licenseIdentity(2)), { expectedVersion: 1 })).resolves.toBe(false);
      await expect(store().getCustomer(customerRecord(licenseIdentity(2)).key)).resolves.toBeUndefined();
      await expect(store().getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, status: 'deprovisioning', version: 2 });
      await expect(store().findCustomerByTenant('tenant-2')).resolves.toBeUndefined();
      await expect(store().findCustomerByTenant('tenant-1')).resolves.toMatchObject({ status: 'deprovisioning', version: 2 });
    });

    it('counts an unconditional write as a new version, so a conditional writer that read before it loses', async () => {
      const customer = customerRecord(licenseIdentity(1));
      await store().putCustomer(customer);
      const read = await store().getCustomer(customer.key);
      await store().putCustomer({ ...customer, tenantId: 'tenant-1' });
      await expect(store().putCustomer({ ...customer, status: 'inactive' }, { expectedVersion: read?.version })).resolves.toBe(false);
      await expect(store().getCustomer(customer.key)).resolves.toStrictEqual({ ...customer, tenantId: 'tenant-1', version: 2 });
    });
  });

  describe('customer identities on usage records', () => {
    it.each(identities)('round-trips a %s identity through metered records', async (_, identity) => {
      await store().addUsage([delta({ customer: identity, hour: hour(1) })]);
      expect((await getRecord(store(), idOf({ customer: identity, hour: hour(1) }))).customer).toStrictEqual(identity);
      const [claimed] = await store().claim(claimRequest());
      expect(claimed?.customer).toStrictEqual(identity);
    });

    it.each(identities)('round-trips a %s identity through totals', async (_, identity) => {
      await store().setTotal(finalTotal({ quantity: 1, allocations: [] }, { customer: identity }), hour(5));
      expect((await getRecord(store(), idOf({ customer: identity }))).customer).toStrictEqual(identity);
    });
  });
}
