import { MeteringEmitter } from '../events';
import { silentLogger } from '../logger';
import type { UsageDelta } from '../model/usage';
import { MemoryStore } from '../store/memory-store';
import { RequestStoreCalls } from '../store/store-timeout';
import type { AddUsageResult } from '../store/usage-store';
import { Aggregator } from './aggregator';
import type { BoundCustomer } from './bound-customer';
import { Persister } from './persister';

const customer: BoundCustomer = {
  identity: { kind: 'license', licenseArn: 'arn:aws:license-manager::123456789012:license:l-p', customerAwsAccountId: '123456789012', productCode: 'prod-p' },
  key: 'customer-p',
  product: { productCode: 'prod-p', identity: 'license', dimensions: new Set(['calls']) },
};
const HOUR = Date.parse('2026-07-15T10:00:00Z');

/** A memory store whose writes are held until released, recording the batch id and quantity of each write. */
class HeldStore extends MemoryStore {
  readonly writes: Array<{ batchId: string | undefined; quantity: number }> = [];
  hold = false;
  private readonly held: Array<() => void> = [];

  override addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    this.writes.push({ batchId, quantity: deltas.reduce((sum, d) => sum + d.quantity, 0) });
    if (!this.hold) return super.addUsage(deltas, batchId);
    return new Promise((resolve, reject) => this.held.push(() => void super.addUsage(deltas, batchId).then(resolve, reject)));
  }

  releaseHeld(): void {
    for (const run of this.held.splice(0)) run();
  }
}

describe('Persister: a write that does not answer in time', () => {
  it('keeps its batch as the unconfirmed batch and retries exactly it, under its id, before newer usage', async () => {
    const store = new HeldStore();
    await store.open();
    const aggregator = new Aggregator();
    const events = new MeteringEmitter();
    const persisted: number[] = [];
    events.on('persisted', ({ quantity }) => persisted.push(quantity));
    const persister = new Persister(aggregator, store, events, silentLogger, new RequestStoreCalls(10));

    aggregator.add(customer, HOUR, ['calls'], [3], undefined, 1);
    store.hold = true;
    await expect(persister.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE', details: { timeoutMs: 10 } });
    expect(persister.pending).toBe(1);

    aggregator.add(customer, HOUR, ['calls'], [4], undefined, 1);
    await expect(persister.persist()).rejects.toMatchObject({ details: { timeoutMs: 10 } });
    // The retry is the same batch (same id, same 3 units): the 4 units wait for the next batch.
    expect(store.writes).toEqual([
      { batchId: store.writes[0]!.batchId, quantity: 3 },
      { batchId: store.writes[0]!.batchId, quantity: 3 },
    ]);

    // Both held writes of the batch land late; then the store answers again.
    store.hold = false;
    store.releaseHeld();
    await persister.persist();
    expect(store.writes.slice(2).map((w) => w.quantity)).toEqual([3, 4]);
    expect(store.writes[2]!.batchId).toBe(store.writes[0]!.batchId);
    expect(store.writes[3]!.batchId).not.toBe(store.writes[0]!.batchId);
    expect(persister.pending).toBe(0);
    expect(persister.failure).toBeUndefined();
    expect((await store.listRecords()).map((r) => r.quantity)).toEqual([7]);
    // Reported once per batch, by the write that applied it.
    expect(persisted.sort()).toEqual([3, 4]);
  });
});
