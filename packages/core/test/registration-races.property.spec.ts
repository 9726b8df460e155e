import fc from 'fast-check';
import { MemoryStore } from '../src';
import { fuzzParameters } from './generative/run';
import { resolveCustomerAnswer, scriptedRegistration } from './support/scripted-registration';

/**
 * Concurrent registrations of one buyer (a double submit, a second token from AWS Marketplace), their ResolveCustomer
 * answers and their registry writes in every order (fc.scheduler). Invariant: the buyer is stored once and announced
 * with `firstTime: true` exactly once; every post answers the same customer; a token is resolved with AWS at most
 * once however many posts carry it (a post while its registration runs joins it, a later one is answered from the
 * token cache), and each ResolveCustomer call is announced once.
 */

const PRODUCT = 'prod-races';
const ANSWER = resolveCustomerAnswer(PRODUCT);

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
        let calls = 0;
        const answer = s.scheduleFunction(async function resolveCustomer() {
          return ANSWER;
        });
        // Far beyond the run: no registration is cut off here (registration-cut-off.spec.ts covers that).
        const { registration, registered } = scriptedRegistration(PRODUCT, store, () => (calls++, answer()), { timeoutMs: 600_000, callTimeoutMs: 10 });
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
