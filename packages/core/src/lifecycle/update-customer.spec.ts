import { ErrorCodes, isMeterkitError } from '../errors';
import type { CustomerRecord } from '../model/customer';
import { customerRecord, licenseIdentity, T0 } from '../store/conformance/fixtures';
import { MemoryStore } from '../store/memory-store';
import type { UsageStore } from '../store/usage-store';
import { MAX_WRITE_ATTEMPTS, updateCustomer } from './update-customer';

const base = customerRecord(licenseIdentity(1));

/** A store on which a rival writes the customer right after each of our reads, `rivalWrites` times. */
function contended(store: MemoryStore, rivalWrites: number): UsageStore {
  let left = rivalWrites;
  return Object.assign(Object.create(store) as UsageStore, {
    getCustomer: async (key: string): Promise<CustomerRecord | undefined> => {
      const read = await store.getCustomer(key);
      if (left > 0) {
        left -= 1;
        await store.putCustomer({ ...base, tenantId: `rival-${left}` });
      }
      return read;
    },
  });
}

describe('updateCustomer', () => {
  let store: MemoryStore;
  beforeEach(async () => {
    store = new MemoryStore();
    await store.open();
    await store.putCustomer(base);
  });

  it('decides again on what the rival wrote, and runs afterWrite once, with the stored version', async () => {
    const seen: (string | undefined)[] = [];
    const written: CustomerRecord[] = [];
    const result = await updateCustomer(contended(store, 2), base.key, (current) => {
      seen.push(current?.tenantId);
      return { result: 'done', write: { ...current!, status: 'inactive', updatedAt: T0 + 1 }, afterWrite: (w) => written.push(w) };
    });
    expect(result).toBe('done');
    expect(seen).toEqual([undefined, 'rival-1', 'rival-0']);
    expect(written).toEqual([{ ...base, tenantId: 'rival-0', status: 'inactive', updatedAt: T0 + 1, version: 4 }]);
    await expect(store.getCustomer(base.key)).resolves.toEqual(written[0]);
  });

  it(`gives up after ${MAX_WRITE_ATTEMPTS} conflicts with ERR_METERKIT_CUSTOMER_CONFLICT, having written nothing of its own`, async () => {
    let afterWrite = 0;
    const error = await updateCustomer(contended(store, MAX_WRITE_ATTEMPTS), base.key, (current) => ({
      result: undefined,
      write: { ...current!, status: 'inactive' },
      afterWrite: () => (afterWrite += 1),
    })).catch((e: unknown) => e);
    expect(isMeterkitError(error, ErrorCodes.CUSTOMER_CONFLICT)).toBe(true);
    expect(afterWrite).toBe(0);
    await expect(store.getCustomer(base.key)).resolves.toMatchObject({ status: 'active', version: MAX_WRITE_ATTEMPTS + 1 });
  });

  it('writes nothing when the decision has no write', async () => {
    await expect(updateCustomer(store, base.key, () => ({ result: 'stale' }))).resolves.toBe('stale');
    await expect(store.getCustomer(base.key)).resolves.toMatchObject({ version: 1 });
  });
});
