import type { ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { isMeterkitError, MemoryStore, type CustomerRecord, type MeteringEvents } from '../src';
import type { Registration } from '../src/registration/resolve-registration';
import { resolveCustomerAnswer, scriptedRegistration } from './support/scripted-registration';

/**
 * Unit tests of one module (Registration) with a scripted ResolveCustomer client, for what a real endpoint cannot be
 * made to do on cue: answer a call after the registration's deadline passed, whatever the abort signal says.
 */

const PRODUCT = 'prod-cutoff';
const ANSWER = resolveCustomerAnswer(PRODUCT);
const ACCOUNT = ANSWER.CustomerAWSAccountId!;
const LICENSE = ANSWER.LicenseArn!;
const TOKEN = 'a-registration-token-of-the-buyer';

/** A gate a test opens by hand. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** A store whose customer writes can be held until the test lets them land. */
class HeldStore extends MemoryStore {
  held: ReturnType<typeof gate> | undefined;
  written = 0;

  override async putCustomer(...args: Parameters<MemoryStore['putCustomer']>): ReturnType<MemoryStore['putCustomer']> {
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) await held.promise;
    this.written++;
    return super.putCustomer(...args);
  }
}

interface Harness {
  registration: Registration;
  store: HeldStore;
  registered: MeteringEvents['registered'][];
  /** Answers the next ResolveCustomer call when the test says so; the call never honours its abort signal. */
  holdNextAnswer(): ReturnType<typeof gate<ResolveCustomerCommandOutput>>;
  calls(): number;
}

function harness(): Harness {
  const store = new HeldStore();
  let next: ReturnType<typeof gate<ResolveCustomerCommandOutput>> | undefined;
  let calls = 0;
  const send = async (): Promise<ResolveCustomerCommandOutput> => {
    calls++;
    const held = next;
    next = undefined;
    return held === undefined ? ANSWER : held.promise;
  };
  const { registration, registered } = scriptedRegistration(PRODUCT, store, send, { timeoutMs: 50, callTimeoutMs: 10 });
  return {
    registration,
    store,
    registered,
    holdNextAnswer: () => (next = gate<ResolveCustomerCommandOutput>()),
    calls: () => calls,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** Lets the work a cut-off registration left running reach its end (its remaining steps wait on no timer). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('a registration cut off by its deadline', () => {
  it('drops a ResolveCustomer answer that arrives after the deadline: nothing stored, cached or emitted; the same token then registers once', async () => {
    const h = harness();
    const late = h.holdNextAnswer();

    const error = await rejection(h.registration.resolve(TOKEN));
    expect(isMeterkitError(error, 'ERR_METERKIT_REGISTRATION_FAILED') && error.details).toEqual({ registrationTimeoutMs: 50 });
    late.open(ANSWER);
    await settle();
    expect(await h.store.listCustomers()).toEqual([]);
    expect(h.registered).toEqual([]);

    const customer = await h.registration.resolve(TOKEN);
    expect(customer.identity).toEqual({ kind: 'license', licenseArn: LICENSE, customerAwsAccountId: ACCOUNT, productCode: PRODUCT });
    expect(h.registered).toEqual([{ customer, firstTime: true }]);
    expect(h.calls()).toBe(2);
  });

  it('leaves a customer whose write landed after the deadline unannounced, and the next registration announces it as the first', async () => {
    const h = harness();
    const write = gate();
    h.store.held = write;

    expect(isMeterkitError(await rejection(h.registration.resolve(TOKEN)), 'ERR_METERKIT_REGISTRATION_FAILED')).toBe(true);
    write.open();
    await settle();
    // The write was on its way: it landed, and is the same customer the next registration stores.
    const stored: CustomerRecord[] = await h.store.listCustomers();
    expect(stored).toHaveLength(1);
    expect(h.registered).toEqual([]);

    const customer = await h.registration.resolve(TOKEN);
    expect(customer.key).toBe(stored[0]!.key);
    expect(await h.store.listCustomers()).toHaveLength(1);
    expect(h.registered).toEqual([{ customer, firstTime: true }]);
    // A browser refresh is answered from the token cache; a new token of the same buyer is no first time.
    await h.registration.resolve(TOKEN);
    await h.registration.resolve(`${TOKEN}-again`);
    expect(h.registered.map((e) => e.firstTime)).toEqual([true, false]);
  });

  it('lets a second post of the same token join the registration under way: one ResolveCustomer call, one announcement', async () => {
    const h = harness();
    const answer = h.holdNextAnswer();
    const first = h.registration.resolve(TOKEN);
    const second = h.registration.resolve(TOKEN);
    answer.open(ANSWER);
    const [a, b] = await Promise.all([first, second]);
    expect(b).toEqual(a);
    expect(h.calls()).toBe(1);
    expect(h.registered).toEqual([{ customer: a, firstTime: true }]);
  });
});
