import { customerKey } from '../../model/customer';
import type { UsageDelta } from '../../model/usage';
import type { StoredRecord, UsageStore } from '../usage-store';
import { compareKeys } from '../frozen-usage';
import { claimRequest, delta, hour, licenseIdentity } from './fixtures';

const CUSTOMERS = 10;
const HOURS = 13;
/** Several claims' worth of due records. */
const RECORDS = CUSTOMERS * HOURS;

function bulkUsage(): UsageDelta[] {
  const deltas: UsageDelta[] = [];
  for (let c = 1; c <= CUSTOMERS; c++) {
    for (let h = 0; h < HOURS; h++) deltas.push(delta({ customer: licenseIdentity(c), hour: hour(h - HOURS + 10), quantity: c * 100 + h }));
  }
  return deltas;
}

/** Tests of usage written and claimed in many chunks (the persister's chunked writes, stores' chunked claims). */
export function describeBulk(store: () => UsageStore): void {
  describe('usage in chunks', () => {
    it('counts each chunk once, whatever order its retries come in', async () => {
      const deltas = bulkUsage();
      const chunks = [deltas.slice(0, 50), deltas.slice(50, 100), deltas.slice(100)];
      await store().addUsage(chunks[0]!, 'chunk-0');
      await store().addUsage(chunks[1]!, 'chunk-1');
      await expect(store().addUsage(chunks[0]!, 'chunk-0')).resolves.toMatchObject({ applied: false });
      await store().addUsage(chunks[2]!, 'chunk-2');
      await expect(store().addUsage(chunks[1]!, 'chunk-1')).resolves.toMatchObject({ applied: false });
      const records = await store().listRecords();
      expect(records).toHaveLength(RECORDS);
      expect(records.reduce((sum, r) => sum + r.quantity, 0)).toBe(deltas.reduce((sum, d) => sum + d.quantity, 0));
    });

    it('claims every one of many due records exactly once with its quantity, forced customers first, then oldest hour and id', async () => {
      const deltas = bulkUsage();
      await store().addUsage(deltas.slice(0, 70), 'chunk-a');
      await store().addUsage(deltas.slice(70), 'chunk-b');
      // A forced customer also has usage in the current hour, which only forcing makes due.
      const forced = licenseIdentity(7);
      await store().addUsage([delta({ customer: forced, hour: hour(10), quantity: 5 })], 'chunk-c');

      const claims: StoredRecord[][] = [];
      for (;;) {
        const claimed = await store().claim(claimRequest({ limit: 40, forceCustomerKeys: [customerKey(forced)] }));
        if (claimed.length === 0) break;
        claims.push(claimed);
      }
      const all = claims.flat();
      expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
      expect(all).toHaveLength(RECORDS + 1);
      const quantities = new Map(deltas.map((d) => [`${d.customerKey}/${d.hour}`, d.quantity]));
      quantities.set(`${customerKey(forced)}/${hour(10)}`, 5);
      for (const record of all) {
        expect(record.state).toBe('sending');
        expect(record.frozen?.quantity).toBe(quantities.get(`${record.customerKey}/${record.hour}`));
      }
      // The forced customer's records come first, oldest hour first; the rest by hour, then id.
      const forcedKey = customerKey(forced);
      expect(all.slice(0, HOURS + 1).every((r) => r.customerKey === forcedKey)).toBe(true);
      const rest = all.slice(HOURS + 1);
      const sorted = [...rest].sort((a, b) => a.hour - b.hour || compareKeys(a.id, b.id));
      expect(rest.map((r) => r.id)).toEqual(sorted.map((r) => r.id));
    });
  });
}
