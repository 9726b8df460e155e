import fc from 'fast-check';
import { createMetering, MemoryStore, silentLogger, type CustomerIdentity, type UsageDelta } from '../src';
import { fuzzParameters } from './generative/run';

/**
 * Commits, flush() calls and one close() in every order, with every store write landing when the scheduler says
 * (fc.scheduler). Invariant: every flush() called before close() resolves (none sees the store closed under it),
 * close() resolves, and every committed unit is stored exactly once. Before close() waited for flushes still
 * persisting, seed 20261207 failed at its first run (a flush saw "The memory store is closed"); its shrunk shape, one
 * commit, a flush and close() while the flush's write waits, is kept in close-during-flush.spec.ts.
 */

const PRODUCT = 'prod-close-race';

function customer(n: number): CustomerIdentity {
  const account = String(100000000000 + n);
  return { kind: 'license', licenseArn: `arn:aws:license-manager::${account}:license:l-${n}`, customerAwsAccountId: account, productCode: PRODUCT };
}

/** Each usage write waits for the scheduler; units counted once per applied batch. */
class ScheduledWrites extends MemoryStore {
  units = 0;

  constructor(private readonly s: fc.Scheduler) {
    super();
  }

  override async addUsage(deltas: readonly UsageDelta[], batchId?: string): ReturnType<MemoryStore['addUsage']> {
    await this.s.schedule(Promise.resolve(), `addUsage ${deltas.length}`);
    const result = await super.addUsage(deltas, batchId);
    if (result.applied !== false) for (const delta of deltas) this.units += delta.quantity;
    return result;
  }
}

type Step = { readonly kind: 'commit'; readonly customer: number; readonly quantity: number } | { readonly kind: 'flush' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('commit' as const), customer: fc.integer({ min: 0, max: 3 }), quantity: fc.integer({ min: 1, max: 5 }) }),
  fc.constant({ kind: 'flush' as const }),
);

describe('close() during flushes (generative)', () => {
  it('every flush called before close() resolves, and every committed unit is stored once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(stepArb, { maxLength: 8 }), fc.nat({ max: 8 }), async (s, steps, closeAt) => {
        const store = new ScheduledWrites(s);
        const metering = createMetering({
          products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }],
          store,
          logger: silentLogger,
          autoStart: false,
          clock: () => Date.parse('2026-07-15T10:20:00Z'),
          aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
        });
        let committed = 0;
        const flushes: Array<Promise<unknown>> = [];
        let closed: Promise<void> | undefined;
        steps.forEach((step, index) => {
          if (index === closeAt) closed = metering.close();
          if (closed !== undefined) return;
          if (step.kind === 'flush') flushes.push(metering.flush());
          else {
            metering.meter(customer(step.customer)).record('api_calls', step.quantity).commit();
            committed += step.quantity;
          }
        });
        closed ??= metering.close();
        await s.waitFor(Promise.all([closed, ...flushes]));
        expect(store.units).toBe(committed);
      }),
      fuzzParameters(100),
    );
  });
});
