import type { TerminalState, UsageStore } from '../usage-store';
import { getRecord } from './context';
import { claimRequest, delta, hour, idOf, licenseIdentity } from './fixtures';

/** redrive() is optional: these tests are skipped for stores without it. */
export function describeRedrive(store: () => UsageStore): void {
  const one = licenseIdentity(1);
  const settledAs = async (dimension: string, state: TerminalState, reason?: string): Promise<string> => {
    await store().addUsage([delta({ customer: one, dimension, quantity: 7 })]);
    const [claimed] = await store().claim(claimRequest({ owner: 'a', limit: 1 }));
    await store().journal([claimed!.id], 'a', hour(10));
    await store().settle(
      [{ id: claimed!.id, state, ...(reason === undefined ? {} : { reason }), ...(state === 'sent' ? { meteringRecordId: 'mr-1' } : {}) }],
      'a',
      hour(10),
    );
    return claimed!.id;
  };

  describe('redrive (optional)', () => {
    const maybe = (name: string, fn: () => Promise<void>): void =>
      it(name, async () => {
        if (store().redrive === undefined) return;
        await fn();
      });

    maybe('puts a rejected record back to pending, due now, attempts kept, reason cleared', async () => {
      const id = await settledAs('requests', 'rejected', 'InvalidUsageDimensionException');
      await expect(store().redrive!([id], hour(11))).resolves.toEqual([id]);
      const record = await getRecord(store(), id);
      expect(record).toMatchObject({ state: 'pending', nextAttemptAt: hour(11), attempts: 1, quantity: 7 });
      expect(record.reason).toBeUndefined();
      expect(record.frozen?.quantity).toBe(7);
      const [again] = await store().claim(claimRequest({ now: hour(11), dueBefore: hour(11), owner: 'b' }));
      expect(again?.id).toBe(id);
    });

    maybe('puts a not-subscribed record back to pending', async () => {
      const id = await settledAs('requests', 'not-subscribed', 'CustomerNotSubscribed');
      await expect(store().redrive!([id], hour(11))).resolves.toEqual([id]);
      expect((await getRecord(store(), id)).state).toBe('pending');
    });

    maybe('makes a pending record waiting for a retry due now', async () => {
      await store().addUsage([delta({ customer: one })]);
      const [claimed] = await store().claim(claimRequest({ owner: 'a' }));
      await store().release([{ id: claimed!.id, nextAttemptAt: hour(20), reason: 'ThrottlingException' }], 'a');
      await expect(store().redrive!([claimed!.id], hour(11))).resolves.toEqual([claimed!.id]);
      expect(await getRecord(store(), claimed!.id)).toMatchObject({ state: 'pending', nextAttemptAt: hour(11) });
    });

    maybe('never touches sent, duplicate, expired, open or sending records, nor unknown ids', async () => {
      const sent = await settledAs('sent_dim', 'sent');
      const duplicate = await settledAs('dup_dim', 'duplicate', 'DuplicateRecord');
      const expired = await settledAs('exp_dim', 'expired', 'SubmissionWindowPassed');
      await store().addUsage([delta({ customer: one, dimension: 'leased' }), delta({ customer: one, dimension: 'open', hour: hour(30) })]);
      const [leased] = await store().claim(claimRequest({ owner: 'a', limit: 1 }));
      const open = idOf({ customer: one, dimension: 'open', hour: hour(30) });
      await expect(store().redrive!([sent, duplicate, expired, leased!.id, open, 'nope'], hour(11))).resolves.toEqual([]);
      expect((await getRecord(store(), sent)).state).toBe('sent');
      expect((await getRecord(store(), sent)).meteringRecordId).toBe('mr-1');
      expect((await getRecord(store(), duplicate)).state).toBe('duplicate');
      expect((await getRecord(store(), expired)).state).toBe('expired');
      expect((await getRecord(store(), leased!.id)).state).toBe('sending');
      expect((await getRecord(store(), open)).state).toBe('open');
    });
  });
}
