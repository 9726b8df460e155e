import type { StoredRecord, UsageStore } from '../usage-store';
import type { StoreContext } from './context';
import { claimRequest, customerRecord, delta, hour, idOf, licenseIdentity, T0 } from './fixtures';

const CUSTOMERS = 6;
const DUE_HOURS = 20;

export function describeConcurrentClaims(
  sharedStores: () => Promise<[UsageStore, UsageStore]>,
  context: StoreContext,
): void {
  describe('concurrent claims on one backing store', () => {
    let first: UsageStore;
    let second: UsageStore;
    let dueIds: string[];

    beforeEach(async () => {
      const [a, b] = await sharedStores();
      first = await context.track(a);
      second = await context.track(b);
      const deltas = [];
      dueIds = [];
      for (let c = 1; c <= CUSTOMERS; c++) {
        const customer = licenseIdentity(c);
        for (let h = 0; h < DUE_HOURS; h++) {
          deltas.push(delta({ customer, hour: hour(h) }));
          dueIds.push(idOf({ customer, hour: hour(h) }));
        }
        deltas.push(delta({ customer, hour: hour(DUE_HOURS) }));
      }
      await first.addUsage(deltas);
    });

    async function claimUntilEmpty(now: number, owners: [string, string], leaseMs: number) {
      const byOwner: [StoredRecord[], StoredRecord[]] = [[], []];
      for (let round = 0; round <= dueIds.length; round++) {
        const request = { now, dueBefore: hour(DUE_HOURS), leaseMs, limit: 7 };
        const [a, b] = await Promise.all([
          first.claim({ ...request, owner: owners[0] }),
          second.claim({ ...request, owner: owners[1] }),
        ]);
        byOwner[0].push(...a);
        byOwner[1].push(...b);
        if (a.length === 0 && b.length === 0) return byOwner;
      }
      throw new Error('claims kept returning records: leased records are being handed out again');
    }

    function expectDisjointCover([a, b]: [StoredRecord[], StoredRecord[]]): void {
      const aIds = a.map((record) => record.id);
      const bIds = b.map((record) => record.id);
      expect(new Set(aIds).size).toBe(aIds.length);
      expect(new Set(bIds).size).toBe(bIds.length);
      expect(aIds.filter((id) => bIds.includes(id))).toEqual([]);
      expect([...aIds, ...bIds].sort()).toEqual([...dueIds].sort());
    }

    it('hands each due record to exactly one handle while leases are valid', async () => {
      const now = hour(DUE_HOURS) + 1;
      const claimed = await claimUntilEmpty(now, ['A', 'B'], 600_000);
      expectDisjointCover(claimed);
      for (const record of claimed[0]) expect(record.leaseOwner).toBe('A');
      for (const record of claimed[1]) expect(record.leaseOwner).toBe('B');
    });

    it('hands each record with an expired lease to exactly one new owner', async () => {
      const now = hour(DUE_HOURS) + 1;
      await claimUntilEmpty(now, ['A', 'B'], 1_000);
      const reclaimed = await claimUntilEmpty(now + 1_000, ['C', 'D'], 600_000);
      expectDisjointCover(reclaimed);
    });

    it('shows each handle what the other one did', async () => {
      const [claimed] = await first.claim(claimRequest({ owner: 'A', limit: 1, dueBefore: hour(DUE_HOURS) }));
      expect(claimed).toBeDefined();
      const id = claimed?.id ?? '';
      // Inside A's lease (claimRequest's now, hour 10, for a minute).
      await expect(second.journal([id], 'A', hour(10) + 1)).resolves.toEqual([id]);
      await second.settle([{ id, state: 'sent', meteringRecordId: 'mr' }], 'A', hour(10) + 2);
      const seen = (await first.listRecords({ states: ['sent'] })).map((record) => record.id);
      expect(seen).toEqual([id]);
    });
  });

  describe('concurrent conditional customer writes on one backing store', () => {
    const WRITERS_PER_HANDLE = 3;
    const ROUNDS = 8;

    it('lets exactly one writer win per version, the winner\'s record standing', async () => {
      const handles = await sharedStores();
      for (const handle of handles) await context.track(handle);
      const key = customerRecord(licenseIdentity(1)).key;
      let expectedVersion: number | undefined;
      for (let round = 0; round < ROUNDS; round++) {
        const writers = handles.flatMap((handle, h) =>
          Array.from({ length: WRITERS_PER_HANDLE }, (_, w) => {
            const record = customerRecord(licenseIdentity(1), { tenantId: `round-${round}-writer-${h}-${w}`, updatedAt: T0 + round });
            return { record, write: () => handle.putCustomer(record, { expectedVersion }) };
          }),
        );
        const applied = await Promise.all(writers.map((writer) => writer.write()));
        const winners = writers.filter((_, i) => applied[i]);
        expect(winners).toHaveLength(1);
        for (const handle of handles) {
          await expect(handle.getCustomer(key)).resolves.toStrictEqual({ ...winners[0]!.record, version: round + 1 });
        }
        expectedVersion = round + 1;
      }
    });
  });
}
