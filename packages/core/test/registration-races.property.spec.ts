import type { MarketplaceMeteringClient, ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering';
import fc from 'fast-check';
import { MemoryStore, silentLogger, type MeteringEvents } from '../src';
import { MeteringEmitter } from '../src/events';
import { Registration } from '../src/registration/resolve-registration';
import { fuzzParameters } from './generative/run';

/**
 * Concurrent registrations of one buyer (a double submit, a second token from AWS Marketplace), their ResolveCustomer
 * answers and their registry writes in every order (fc.scheduler). Invariant: the buyer is stored once and announced
 * with `firstTime: true` exactly once; every post answers the same customer; a token is resolved with AWS at most
 * once however many posts carry it (a post while its registration runs joins it, a later one is answered from the
 * token cache), and each ResolveCustomer call is announced once.
 */

const PRODUCT = 'prod-races';
const ACCOUNT = '123456789012';
const ANSWER: ResolveCustomerCommandOutput = {
  ProductCode: PRODUCT,
  CustomerAWSAccountId: ACCOUNT,
  LicenseArn: `arn:aws:license-manager::${ACCOUNT}:license:l-races`,
  $metadata: {},
};

/** Each customer write waits for the scheduler to let it land. */
class ScheduledStore extends MemoryStore {
  constructor(private readonly s: fc.Scheduler) {
    super();
  }

  override async putCustomer(...args: Parameters<MemoryStore['putCustomer']>): ReturnType<MemoryStore['putCustomer']> {
    await this.s.schedule(Promise.resolve(), 'putCustomer');
    return super.putCustomer(...args);
  }
}

describe('registration races (generative)', () => {
  it('stores and announces a buyer once, whatever the order of concurrent posts, answers and writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 6 }), async (s, posts) => {
        const store = new ScheduledStore(s);
        const events = new MeteringEmitter();
        const registered: MeteringEvents['registered'][] = [];
        events.on('registered', (e) => registered.push(e));
        let calls = 0;
        const answer = s.scheduleFunction(async function resolveCustomer() {
          return ANSWER;
        });
        const client = { send: () => (calls++, answer()), config: {} } as unknown as MarketplaceMeteringClient;
        const registration = new Registration({
          client,
          store,
          products: new Map([[PRODUCT, { productCode: PRODUCT, identity: 'license', dimensions: new Set(['api_calls']) }]]),
          events,
          logger: silentLogger,
          clock: () => Date.parse('2026-07-15T10:20:00Z'),
          sleep: async () => undefined,
          retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
          region: async () => 'us-east-1',
          // Far beyond the run: no registration is cut off here (registration-cut-off.spec.ts covers that).
          timeoutMs: 600_000,
          callTimeoutMs: 10,
        });
        const answers = posts.map((token) => s.schedule(Promise.resolve(`a-token-of-the-buyer-${token}`), `post ${token}`).then((t) => registration.resolve(t)));
        const customers = await s.waitFor(Promise.all(answers));

        expect(new Set(customers.map((c) => c.key)).size).toBe(1);
        expect(await store.listCustomers()).toHaveLength(1);
        expect(registered.filter((e) => e.firstTime)).toHaveLength(1);
        expect(calls).toBeLessThanOrEqual(new Set(posts).size);
        expect(registered).toHaveLength(calls);
      }),
      fuzzParameters(100),
    );
  });
});
