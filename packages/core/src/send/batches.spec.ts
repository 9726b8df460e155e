import type { CustomerIdentity } from '../model/customer';
import type { FrozenUsage } from '../model/usage';
import type { StoredRecord } from '../store/usage-store';
import { toBatches } from './batches';
import { toWireRecord } from './wire-record';

const H = 3_600_000;

function record(i: number, productCode = 'prod-a', frozen?: FrozenUsage, customer?: CustomerIdentity): StoredRecord {
  const identity: CustomerIdentity = customer ?? {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::111111111111:license:l-${String(i).padStart(32, '0')}`,
    customerAwsAccountId: '222222222222',
    productCode,
  };
  return {
    id: `r${i}`,
    customer: identity,
    customerKey: `k${i}`,
    productCode,
    dimension: 'api_calls',
    hour: 10 * H,
    state: 'sending',
    quantity: frozen?.quantity ?? 1,
    frozen: frozen ?? { quantity: 1, allocations: [] },
    source: 'metered',
    attempts: 0,
    mayHaveLanded: false,
    nextAttemptAt: 0,
  };
}

describe('batching', () => {
  it('sends 60 records as calls of 25, 25 and 10', () => {
    const batches = toBatches(Array.from({ length: 60 }, (_, i) => toWireRecord(record(i))));
    expect(batches.map((b) => b.records.length)).toEqual([25, 25, 10]);
  });

  it('never puts two products in one call, nor license and legacy records together', () => {
    const legacy: CustomerIdentity = { kind: 'legacy', productCode: 'prod-a', customerIdentifier: 'cust-1' };
    const wires = [record(1, 'prod-a'), record(2, 'prod-b'), record(3, 'prod-a'), record(4, 'prod-a', undefined, legacy)].map(toWireRecord);
    const batches = toBatches(wires);
    expect(batches.map((b) => [b.productCode, b.identity, b.records.map((w) => w.stored.id)])).toEqual([
      ['prod-a', 'license', ['r1', 'r3']],
      ['prod-b', 'license', ['r2']],
      ['prod-a', 'legacy', ['r4']],
    ]);
  });

  it('keeps every call under 1 MB when records carry large allocations', () => {
    const allocations = Array.from({ length: 400 }, (_, i) => ({ quantity: 1, tags: { tenant: `t-${i}`.padEnd(250, 'x'), region: 'eu' } }));
    const big: FrozenUsage = { quantity: 400, allocations };
    const wires = Array.from({ length: 25 }, (_, i) => toWireRecord(record(i, 'prod-a', big)));
    const batches = toBatches(wires);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      const body = JSON.stringify({
        UsageRecords: batch.records.map((w) => ({ ...w.record, Timestamp: w.record.Timestamp!.getTime() / 1000 })),
      });
      expect(Buffer.byteLength(body)).toBeLessThan(1_000_000);
    }
    expect(batches.flatMap((b) => b.records).length).toBe(25);
  });

  it('sends allocations exactly as frozen, tags in key order, the same bytes on every retry', () => {
    const frozen: FrozenUsage = { quantity: 5, allocations: [{ quantity: 2 }, { quantity: 3, tags: { z: '1', a: '2' } }] };
    const first = toWireRecord(record(1, 'prod-a', frozen));
    const again = toWireRecord(record(1, 'prod-a', frozen));
    expect(first.record.UsageAllocations).toEqual([
      { AllocatedUsageQuantity: 2 },
      { AllocatedUsageQuantity: 3, Tags: [{ Key: 'a', Value: '2' }, { Key: 'z', Value: '1' }] },
    ]);
    expect(JSON.stringify(again.record)).toBe(JSON.stringify(first.record));
    expect(first.record.Timestamp).toEqual(new Date(10 * H));
  });

  it('bills a record untagged rather than lose it when its allocations cannot be sent', () => {
    const tooManyKeys: FrozenUsage = {
      quantity: 6,
      allocations: ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => ({ quantity: 1, tags: { [k]: 'x' } })),
    };
    const wire = toWireRecord(record(1, 'prod-a', tooManyKeys));
    expect(wire.allocationsDropped).toBe(true);
    expect(wire.record.UsageAllocations).toBeUndefined();
    expect(wire.record.Quantity).toBe(6);
  });
});
