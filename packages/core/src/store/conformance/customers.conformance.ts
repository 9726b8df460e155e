import type { UsageStore } from '../usage-store';
import type { CustomerIdentity } from '../../model/customer';
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
