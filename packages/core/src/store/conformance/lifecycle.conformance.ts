import { isMeterkitError, ErrorCodes } from '../../errors';
import type { UsageStore } from '../usage-store';
import { customerRecord, delta, licenseIdentity } from './fixtures';

export function describeLifecycle(store: () => UsageStore): void {
  describe('lifecycle', () => {
    it('names its kind and says whether it is durable', () => {
      expect(typeof store().kind).toBe('string');
      expect(store().kind.length).toBeGreaterThan(0);
      expect(typeof store().durable).toBe('boolean');
    });

    it('opens idempotently, keeping what it holds', async () => {
      await store().addUsage([delta({ quantity: 3 })]);
      await store().open();
      await store().open();
      expect((await store().listRecords()).map((record) => record.quantity)).toEqual([3]);
    });

    it('closes idempotently and refuses work once closed', async () => {
      await store().close();
      await store().close();
      const closed = (error: unknown) => isMeterkitError(error, ErrorCodes.CLOSED);
      await expect(store().addUsage([delta()]).catch(closed)).resolves.toBe(true);
      await expect(store().listRecords().catch(closed)).resolves.toBe(true);
      await expect(store().putCustomer(customerRecord(licenseIdentity(1))).catch(closed)).resolves.toBe(true);
    });
  });
}
