import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { createMetering, silentLogger, type LicenseIdentity, type UsageDelta } from '../src';
import { SqliteStore } from '../src/store/sqlite';
import { fuzzParameters } from './generative/run';

const PRODUCT = 'prod-group-commit';
const DIMENSIONS = ['calls', 'bytes'];
const HOUR = Date.UTC(2026, 6, 15, 10);

function buyer(n: number): LicenseIdentity {
  return {
    kind: 'license',
    licenseArn: `arn:aws:license-manager::111111111111:license:l-${String(n).padStart(32, '0')}`,
    customerAwsAccountId: String(222222222222 + n),
    productCode: PRODUCT,
  };
}

/** A SQLite store that counts its writes. */
class CountingStore extends SqliteStore {
  writes = 0;

  override addUsage(deltas: readonly UsageDelta[], batchId?: string) {
    this.writes++;
    return super.addUsage(deltas, batchId);
  }
}

const wave = fc.array(fc.record({ buyer: fc.nat(3), dimension: fc.nat(1), quantity: fc.integer({ min: 1, max: 9 }) }), { minLength: 1, maxLength: 30 });

describe('sync durability with group commit', () => {
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-group-commit-'));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('resolves a commit only once its usage is in the store, counted once, whatever the waves of concurrent commits (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 3), fc.array(wave, { minLength: 1, maxLength: 4 }), async (syncGatherMs, waves) => {
        const store = new CountingStore({ path: path.join(directory, `run-${run++}.db`) });
        const metering = createMetering({
          products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
          store,
          durability: 'sync',
          syncGatherMs,
          autoStart: false,
          clock: () => HOUR + 60_000,
          logger: silentLogger,
          aws: { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
        });
        try {
          const committed = new Map<string, number>();
          const stored = async () => new Map((await store.listRecords()).map((r) => [`${r.customerKey}/${r.dimension}`, r.quantity]));
          for (const commits of waves) {
            await Promise.all(
              commits.map(async ({ buyer: b, dimension, quantity }) => {
                const meter = metering.meter(buyer(b));
                meter.record(DIMENSIONS[dimension]!, quantity);
                const key = `${meter.customerKey}/${DIMENSIONS[dimension]}`;
                await meter.commit();
                committed.set(key, (committed.get(key) ?? 0) + quantity);
                // Resolved: its usage (and that of every commit resolved before it) is in the store.
                const now = await stored();
                for (const [k, q] of committed) expect(now.get(k) ?? 0).toBeGreaterThanOrEqual(q);
              }),
            );
            // Every commit of the wave resolved, nothing persisted on the side: the store holds exactly what was committed.
            expect(await stored()).toEqual(committed);
          }
          expect(store.writes).toBeLessThanOrEqual(waves.reduce((sum, w) => sum + w.length, 0));
        } finally {
          await metering.close();
        }
      }),
      fuzzParameters(25),
    );
  });

  describe('on the default syncGatherMs', () => {
    afterEach(() => jest.useRealTimers());

    it('commits made in one turn share one store write, started at the end of the turn without a timer, under one bounded wait', async () => {
      const store = new CountingStore({ path: path.join(directory, 'turn.db') });
      const metering = createMetering({
        products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
        store,
        durability: 'sync',
        autoStart: false,
        clock: () => HOUR + 60_000,
        logger: silentLogger,
        aws: { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      });
      const commitOne = (b: number) => {
        const meter = metering.meter(buyer(b));
        meter.record('calls', b + 1);
        return meter.commit();
      };
      const turns = async (n: number) => {
        for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
      };
      try {
        // The store opens with a first commit.
        await commitOne(0);
        expect(store.writes).toBe(1);
        // From here timers never fire: the gather and the write must not need one. setImmediate still runs.
        jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });

        const settledAfter: number[] = [];
        const commits = [1, 2, 3, 4].map((b) => commitOne(b).then(() => void settledAfter.push(store.writes)));
        // One storeTimeoutMs bound for the four commits, not one each.
        expect(jest.getTimerCount()).toBe(1);
        expect(store.writes).toBe(1);
        let settled = false;
        void Promise.all(commits).then(() => (settled = true));
        await turns(5);
        expect(settled).toBe(true);
        // One write for the turn's four commits, each settled after it, with its usage stored once.
        expect(store.writes).toBe(2);
        expect(settledAfter).toEqual([2, 2, 2, 2]);
        expect((await store.listRecords()).reduce((sum, r) => sum + r.quantity, 0)).toBe(1 + 2 + 3 + 4 + 5);
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        jest.useRealTimers();
        await metering.close();
      }
    });
  });
});
