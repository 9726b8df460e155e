import fc from 'fast-check';
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

type Fault = 'ok' | 'fail' | 'lost-answer' | 'hang';

/**
 * A memory store whose writes follow a script: `fail` rejects without applying, `lost-answer` applies and rejects,
 * `hang` holds the write (it lands when released, after the persister stopped waiting). Logs every write.
 */
class ScriptedStore extends MemoryStore {
  /** Each write, with the batch ids the store held when it was made. */
  readonly writes: Array<{ batchId: string; deltas: number; fault: Fault; stored: ReadonlySet<string> }> = [];
  script: Fault[] = [];
  private readonly held: Array<() => void> = [];
  private readonly stored = new Set<string>();

  override addUsage(deltas: readonly UsageDelta[], batchId?: string): Promise<AddUsageResult> {
    const fault = this.script.shift() ?? 'ok';
    this.writes.push({ batchId: batchId!, deltas: deltas.length, fault, stored: new Set(this.stored) });
    const apply = () => super.addUsage(deltas, batchId).then((result) => (this.stored.add(batchId!), result));
    switch (fault) {
      case 'ok':
        return apply();
      case 'fail':
        return Promise.reject(new Error('connection refused'));
      case 'lost-answer':
        return apply().then(() => Promise.reject(new Error('connection reset')));
      case 'hang':
        return new Promise((resolve, reject) => this.held.push(() => void apply().then(resolve, reject)));
    }
  }

  releaseHeld(): void {
    for (const run of this.held.splice(0)) run();
  }
}

const customers: BoundCustomer[] = ['a', 'b', 'c', 'd'].map((key) => ({ ...customer, key: `customer-${key}` }));

type Step =
  | { readonly kind: 'add'; readonly customer: number; readonly hour: number; readonly quantity: number }
  | { readonly kind: 'persist'; readonly faults: readonly Fault[] }
  | { readonly kind: 'release' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), customer: fc.nat(3), hour: fc.nat(9), quantity: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('persist' as const), faults: fc.array(fc.constantFrom<Fault>('ok', 'fail', 'lost-answer', 'hang'), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const) }) },
);

const key = (customerKey: string, hour: number) => `${customerKey}/${hour}`;

describe('Persister: chunked writes', () => {
  it('writes a drain in chunks of at most chunkSize deltas, each under its own id, and yields between them', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000), 3);
    for (let hour = 0; hour < 8; hour++) aggregator.add(customer, HOUR + hour * 3_600_000, ['calls'], [1], undefined, 1);

    // A macrotask queued before the persist runs before it ends only if the persist yields to the event loop.
    let turned = false;
    setImmediate(() => (turned = true));
    await persister.persist();
    expect(store.writes.map((w) => w.deltas)).toEqual([3, 3, 2]);
    expect(new Set(store.writes.map((w) => w.batchId)).size).toBe(3);
    expect((await store.listRecords()).length).toBe(8);
    expect(turned).toBe(true);
  });

  it('by default writes at most 100 deltas per store write (one SQLite transaction of a few milliseconds)', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000));
    for (let hour = 0; hour < 1_000; hour++) aggregator.add(customer, HOUR + hour * 3_600_000, ['calls'], [1], undefined, 1);
    await persister.persist();
    expect(store.writes).toHaveLength(10);
    expect(store.writes.every((w) => w.deltas === 100)).toBe(true);
  });

  it('after a chunk fails, retries exactly that chunk under its id, then the rest of its drain, then newer usage', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000), 2);
    for (let hour = 0; hour < 6; hour++) aggregator.add(customer, HOUR + hour * 3_600_000, ['calls'], [1], undefined, 1);
    store.script = ['ok', 'fail'];
    await expect(persister.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    expect(persister.pending).toBe(4);
    aggregator.add(customer, HOUR + 9 * 3_600_000, ['calls'], [1], undefined, 1);
    await persister.persist();
    const ids = store.writes.map((w) => w.batchId);
    expect(store.writes.map((w) => w.deltas)).toEqual([2, 2, 2, 2, 1]);
    expect(ids[2]).toBe(ids[1]);
    expect(new Set(ids).size).toBe(4);
    expect(persister.pending).toBe(0);
  });

  // Shrunk counterexample of the property below (seed -1244419762): a write that hung and landed once released
  // is confirmed by its landing and not written again; the next write carries the newer usage.
  it('does not write again a batch whose hung write landed late', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1), 1);
    aggregator.add(customer, HOUR, ['calls'], [1], undefined, 1);
    store.script = ['hang'];
    await expect(persister.persist()).rejects.toMatchObject({ code: 'ERR_METERKIT_STORE' });
    store.releaseHeld();
    await new Promise((resolve) => setImmediate(resolve));
    expect(persister.pending).toBe(0);
    aggregator.add(customer, HOUR, ['calls'], [1], undefined, 1);
    await persister.persist();
    expect(persister.pending).toBe(0);
    expect((await store.listRecords()).map((r) => r.quantity)).toEqual([2]);
    expect(store.writes).toHaveLength(2);
    expect(store.writes[1]!.batchId).not.toBe(store.writes[0]!.batchId);
  });

  it('keeps exact totals whatever chunks fail, lose their answer or hang and land late (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 40 }), async (chunkSize, steps) => {
        const store = new ScriptedStore();
        await store.open();
        const aggregator = new Aggregator();
        const events = new MeteringEmitter();
        let reported = 0;
        events.on('persisted', ({ quantity }) => (reported += quantity));
        const persister = new Persister(aggregator, store, events, silentLogger, new RequestStoreCalls(1), chunkSize);
        const expected = new Map<string, number>();
        let total = 0;

        for (const s of steps) {
          if (s.kind === 'add') {
            const c = customers[s.customer]!;
            aggregator.add(c, HOUR + s.hour * 3_600_000, ['calls'], [s.quantity], undefined, 1);
            expected.set(key(c.key, s.hour), (expected.get(key(c.key, s.hour)) ?? 0) + s.quantity);
            total += s.quantity;
          } else if (s.kind === 'persist') {
            store.script = [...s.faults];
            await persister.persist().catch(() => undefined);
          } else {
            store.releaseHeld();
          }
        }
        // Heal: writes answer again, held ones land, and persisting finishes.
        store.script = [];
        store.releaseHeld();
        await persister.persist();
        expect(persister.pending).toBe(0);

        const stored = new Map((await store.listRecords()).map((r) => [key(r.customerKey, (r.hour - HOUR) / 3_600_000), r.quantity]));
        expect(stored).toEqual(expected);
        // Reported once, by the write that applied it: a batch whose applying write lost its answer is not reported.
        if (store.writes.some((w) => w.fault === 'lost-answer')) expect(reported).toBeLessThanOrEqual(total);
        else expect(reported).toBe(total);
        // A write that was not answered is followed by a write of the same batch, unless the batch landed since.
        for (let i = 0; i < store.writes.length; i++) {
          const write = store.writes[i]!;
          const next = store.writes[i + 1];
          if (write.fault !== 'ok' && next !== undefined && next.batchId !== write.batchId) expect(next.stored.has(write.batchId)).toBe(true);
          expect(write.deltas).toBeLessThanOrEqual(chunkSize);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('Persister: group commit', () => {
  afterEach(() => jest.useRealTimers());

  for (const gatherMs of [undefined, 5]) {
    it(`${gatherMs !== undefined ? 'shares one write among calls made within the gather window' : 'without a gather window, writes a first call at once and later calls in the next round'} (gatherMs ${gatherMs})`, async () => {
      jest.useFakeTimers();
      const store = new ScriptedStore();
      await store.open();
      const aggregator = new Aggregator();
      const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000));
      aggregator.add(customer, HOUR, ['calls'], [1], undefined, 1);
      const first = persister.persist(gatherMs);
      // Another request's commit, after the first one's microtasks.
      await Promise.resolve();
      aggregator.add(customers[1]!, HOUR, ['calls'], [2], undefined, 1);
      const second = persister.persist(gatherMs);
      await jest.advanceTimersByTimeAsync(gatherMs ?? 0);
      await Promise.all([first, second]);
      expect(store.writes.map((w) => w.deltas)).toEqual(gatherMs !== undefined ? [2] : [1, 1]);
      expect((await store.listRecords()).reduce((sum, r) => sum + r.quantity, 0)).toBe(3);
    });
  }

  it('with gatherMs 0, shares one write among the calls of one turn of the event loop, started at its end without a timer, and settles them after it', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000));
    const settled: number[] = [];
    const calls: Array<Promise<void>> = [];
    for (let i = 0; i < 3; i++) {
      aggregator.add(customers[i]!, HOUR, ['calls'], [i + 1], undefined, 1);
      calls.push(persister.persist(0).then(() => void settled.push(store.writes.length)));
      // The next request's handler runs after this one's microtasks, in the same turn.
      await Promise.resolve();
    }
    expect(store.writes).toEqual([]);
    await Promise.all(calls);
    // One write of the three deltas, and each call settled after it.
    expect(store.writes.map((w) => w.deltas)).toEqual([3]);
    expect(settled).toEqual([1, 1, 1]);
    expect((await store.listRecords()).reduce((sum, r) => sum + r.quantity, 0)).toBe(6);
  });
});

describe('Persister: draining a chunk at a time', () => {
  it('drains each chunk just before its write: the rest stays in the aggregator meanwhile', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000), 2);
    const seen: number[] = [];
    const addUsage = store.addUsage.bind(store);
    store.addUsage = (deltas, batchId) => {
      seen.push(aggregator.size);
      return addUsage(deltas, batchId);
    };
    for (let hour = 0; hour < 7; hour++) aggregator.add(customer, HOUR + hour * 3_600_000, ['calls'], [1], undefined, 1);
    await persister.persist();
    expect(seen).toEqual([5, 3, 1, 0]);
    expect(store.writes.map((w) => w.deltas)).toEqual([2, 2, 2, 1]);
    expect((await store.listRecords()).reduce((sum, r) => sum + r.quantity, 0)).toBe(7);
  });

  it('ends a round with what the aggregator held at its start: usage added during it goes to the next round', async () => {
    const store = new ScriptedStore();
    await store.open();
    const aggregator = new Aggregator();
    const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1000), 1);
    const addUsage = store.addUsage.bind(store);
    // Steady load: every write is followed by a new request's usage, of the same hour and customer too.
    let arrived = 0;
    store.addUsage = (deltas, batchId) => {
      aggregator.add(customers[arrived++ % 2]!, HOUR, ['calls'], [10], undefined, 1);
      return addUsage(deltas, batchId);
    };
    for (const c of customers) aggregator.add(c, HOUR, ['calls'], [1], undefined, 1);
    await persister.persist();
    expect(store.writes).toHaveLength(4);
    expect(aggregator.size).toBe(2);
    store.addUsage = addUsage;
    await persister.persist();
    expect(aggregator.size).toBe(0);
    const stored = new Map((await store.listRecords()).map((r) => [r.customerKey, r.quantity]));
    expect(stored).toEqual(new Map([['customer-a', 21], ['customer-b', 21], ['customer-c', 1], ['customer-d', 1]]));
  });
});

/** The model of persisting under load: what was added, per record, and the rounds started and not yet awaited. */
interface PersistModel {
  readonly expected: Map<string, number>;
  readonly rounds: Array<Promise<unknown>>;
}
interface PersistReal {
  readonly aggregator: Aggregator;
  readonly persister: Persister;
  readonly store: ScriptedStore;
}

class AddUsage implements fc.AsyncCommand<PersistModel, PersistReal> {
  constructor(readonly customer: number, readonly hour: number, readonly quantity: number) {}
  check = () => true;
  async run(m: PersistModel, r: PersistReal): Promise<void> {
    const c = customers[this.customer]!;
    r.aggregator.add(c, HOUR + this.hour * 3_600_000, ['calls'], [this.quantity], undefined, 1);
    m.expected.set(key(c.key, this.hour), (m.expected.get(key(c.key, this.hour)) ?? 0) + this.quantity);
  }
  toString = () => `add(${this.customer}, ${this.hour}, ${this.quantity})`;
}

/** Starts a persist without waiting for it: adds and other persists interleave with its chunks. */
class StartPersist implements fc.AsyncCommand<PersistModel, PersistReal> {
  constructor(readonly faults: readonly Fault[]) {}
  check = () => true;
  async run(m: PersistModel, r: PersistReal): Promise<void> {
    r.store.script.push(...this.faults);
    m.rounds.push(r.persister.persist().catch(() => undefined));
  }
  toString = () => `persist(${this.faults.join(',')})`;
}

/** Lets the event loop turn: a running round writes its next chunk. */
class Turn implements fc.AsyncCommand<PersistModel, PersistReal> {
  check = () => true;
  async run(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }
  toString = () => 'turn';
}

class ReleaseHeld implements fc.AsyncCommand<PersistModel, PersistReal> {
  check = () => true;
  async run(_m: PersistModel, r: PersistReal): Promise<void> {
    r.store.releaseHeld();
  }
  toString = () => 'release';
}

describe('Persister: adds, chunked drains and failing writes interleaved (model-based)', () => {
  /**
   * Invariant: whatever the interleaving of adds, persists started while others run (each draining a chunk at a
   * time, chunks of 1 to 4), writes that fail, lose their answer or hang and land late, and turns of the event
   * loop, once writes answer again every unit added is in the store exactly once, and nothing stays pending.
   */
  it('stores what was added, each unit once', async () => {
    const commands = [
      fc.tuple(fc.nat(3), fc.nat(3), fc.integer({ min: 1, max: 50 })).map(([c, h, q]) => new AddUsage(c, h, q)),
      fc.array(fc.constantFrom<Fault>('ok', 'fail', 'lost-answer', 'hang'), { maxLength: 3 }).map((faults) => new StartPersist(faults)),
      fc.constant(new Turn()),
      fc.constant(new ReleaseHeld()),
    ];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.commands(commands, { maxCommands: 50 }), async (chunkSize, cmds) => {
        const store = new ScriptedStore();
        await store.open();
        const aggregator = new Aggregator();
        const persister = new Persister(aggregator, store, new MeteringEmitter(), silentLogger, new RequestStoreCalls(1), chunkSize);
        const model: PersistModel = { expected: new Map(), rounds: [] };
        await fc.asyncModelRun(() => ({ model, real: { aggregator, persister, store } }), cmds);
        // Heal: writes answer again, held ones land, the rounds started end, and a last persist finishes.
        store.script = [];
        store.releaseHeld();
        await Promise.all(model.rounds);
        store.releaseHeld();
        await persister.persist();
        expect(persister.pending).toBe(0);
        const stored = new Map((await store.listRecords()).map((rec) => [key(rec.customerKey, (rec.hour - HOUR) / 3_600_000), rec.quantity]));
        expect(stored).toEqual(model.expected);
        for (const write of store.writes) expect(write.deltas).toBeLessThanOrEqual(chunkSize);
      }),
      { numRuns: 200 },
    );
  });
});
