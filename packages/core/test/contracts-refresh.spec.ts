import fc from 'fast-check';
import { ErrorCodes, MemoryStore, MeterkitError, silentLogger, type EntitlementSet, type MeteringEvents } from '../src';
import { MeteringEmitter } from '../src/events';
import { EntitlementCache } from '../src/contracts/entitlement-cache';
import type { DimensionEntitlement } from '../src/contracts/entitlement-set';
import { EntitlementRefresher, type ContractCustomer, type RefreshRequest } from '../src/contracts/refresh-entitlements';
import type { EntitlementStore } from '../src/store/entitlement-store';

const CUSTOMER: ContractCustomer = {
  key: 'license:arn:aws:license-manager::123456789012:license:l-1',
  identity: { kind: 'license', licenseArn: 'arn:aws:license-manager::123456789012:license:l-1', customerAwsAccountId: '123456789012', productCode: 'prod-c' },
  productCode: 'prod-c',
};
const seats = (value: number, expiresAt?: number): DimensionEntitlement[] => [{ dimension: 'seats', value, valueType: 'integer', ...(expiresAt === undefined ? {} : { expiresAt }) }];
const change = (id: string): RefreshRequest => ({ trigger: `event:${id}`, changeSignal: true, endSignal: false });
const end = (id: string): RefreshRequest => ({ trigger: `event:${id}`, changeSignal: true, endSignal: true });

/** A refresher over a real MemoryStore, reading what `aws.answer` holds, on a clock the test moves. */
async function harness(delays: readonly number[] = [60_000, 120_000]) {
  const store = new MemoryStore();
  await store.open();
  const clock = { now: 1_000_000 };
  const aws = { answer: seats(10) as DimensionEntitlement[] | Error, reads: 0 };
  const events = new MeteringEmitter();
  const changed: Array<MeteringEvents['entitlementsChanged']> = [];
  const failed: Array<MeteringEvents['entitlementRefreshFailed']> = [];
  events.on('entitlementsChanged', (e) => changed.push(e));
  events.on('entitlementRefreshFailed', (e) => failed.push(e));
  const cache = new EntitlementCache({ store: async () => store, clock: () => clock.now, cacheMs: 5000 });
  const refresher = new EntitlementRefresher({
    store: async () => store,
    read: async () => {
      aws.reads++;
      if (aws.answer instanceof Error) throw aws.answer;
      return aws.answer;
    },
    cache,
    events,
    logger: silentLogger,
    clock: () => clock.now,
    staleRetryDelaysMs: delays,
  });
  const stored = () => store.getEntitlements(CUSTOMER.key);
  return { store, clock, aws, refresher, changed, failed, stored, cache };
}

describe('EntitlementRefresher', () => {
  it('stores a read whole, tells a change once, and stores an equal read again without telling', async () => {
    const h = await harness();
    await expect(h.refresher.refresh(CUSTOMER, { trigger: 'registration', changeSignal: false, endSignal: false })).resolves.toMatchObject({ outcome: 'changed' });
    h.clock.now += 1;
    await expect(h.refresher.refresh(CUSTOMER, { trigger: 'timer', changeSignal: false, endSignal: false })).resolves.toMatchObject({ outcome: 'unchanged' });
    expect(h.changed).toHaveLength(1);
    expect(h.changed[0]).toMatchObject({ customerKey: CUSTOMER.key, productCode: 'prod-c', previous: undefined, trigger: 'registration' });
    expect(await h.stored()).toMatchObject({ entitlements: seats(10), fetchedAt: 1_000_001, trigger: 'timer' });
    expect(h.refresher.pendingRetries()).toEqual([]);
  });

  it('an empty read without an end signal keeps the stored set; with one, it revokes', async () => {
    const h = await harness();
    await h.refresher.refresh(CUSTOMER, change('created'));
    h.aws.answer = [];
    h.clock.now += 1;
    await expect(h.refresher.refresh(CUSTOMER, change('amended'))).resolves.toMatchObject({ outcome: 'lag' });
    await expect(h.refresher.refresh(CUSTOMER, { trigger: 'timer', changeSignal: false, endSignal: false })).resolves.toMatchObject({ outcome: 'lag' });
    expect(await h.stored()).toMatchObject({ entitlements: seats(10), trigger: 'event:created' });
    expect((await h.stored())?.revoked).toBeUndefined();
    h.clock.now += 1;
    await expect(h.refresher.refresh(CUSTOMER, end('ended'))).resolves.toMatchObject({ outcome: 'changed' });
    expect(await h.stored()).toMatchObject({ entitlements: [], revoked: true, trigger: 'event:ended' });
    expect(h.changed.at(-1)).toMatchObject({ trigger: 'event:ended', previous: { entitlements: seats(10) } });
    // Revoked already: later empty reads change nothing and schedule nothing.
    h.clock.now += 1;
    await expect(h.refresher.refresh(CUSTOMER, change('late'))).resolves.toMatchObject({ outcome: 'unchanged' });
    expect(h.refresher.pendingRetries()).toEqual([]);
  });

  it('an SNS entitlement-updated is an end signal only once the stored ExpirationDate has passed', async () => {
    const h = await harness();
    const expiry = h.clock.now + 10_000;
    h.aws.answer = seats(10, expiry);
    await h.refresher.refresh(CUSTOMER, change('sns-0'));
    h.aws.answer = [];
    const sns = (id: string): RefreshRequest => ({ ...change(id), endIfExpired: true });
    h.clock.now = expiry - 1;
    await expect(h.refresher.refresh(CUSTOMER, sns('sns-1'))).resolves.toMatchObject({ outcome: 'lag' });
    h.clock.now = expiry;
    await expect(h.refresher.refresh(CUSTOMER, sns('sns-2'))).resolves.toMatchObject({ outcome: 'changed', set: { revoked: true } });
  });

  it('after a change signal, a stale read is retried on the schedule until the change shows', async () => {
    const h = await harness([60_000, 120_000, 300_000]);
    await h.refresher.refresh(CUSTOMER, { trigger: 'registration', changeSignal: false, endSignal: false });
    const signalAt = (h.clock.now += 1000);
    await expect(h.refresher.refresh(CUSTOMER, change('amended'))).resolves.toMatchObject({ outcome: 'unchanged' });
    expect(h.refresher.pendingRetries()).toEqual([{ customerKey: CUSTOMER.key, dueAt: signalAt + 60_000, trigger: 'event:amended' }]);
    h.clock.now = signalAt + 59_999;
    await expect(h.refresher.runDueRetries()).resolves.toBe(0);
    h.clock.now = signalAt + 60_000;
    await expect(h.refresher.runDueRetries()).resolves.toBe(1);
    expect(h.refresher.pendingRetries()).toEqual([{ customerKey: CUSTOMER.key, dueAt: signalAt + 120_000, trigger: 'event:amended' }]);
    h.aws.answer = seats(20);
    h.clock.now = signalAt + 120_000;
    await expect(h.refresher.runDueRetries()).resolves.toBe(1);
    expect(h.refresher.pendingRetries()).toEqual([]);
    expect(await h.stored()).toMatchObject({ entitlements: seats(20), trigger: 'event:amended' });
    expect(h.failed).toEqual([]);
  });

  it('after the last retry the old values stay and entitlementRefreshFailed is emitted', async () => {
    const h = await harness([60_000, 120_000]);
    await h.refresher.refresh(CUSTOMER, { trigger: 'registration', changeSignal: false, endSignal: false });
    h.clock.now += 1;
    await h.refresher.refresh(CUSTOMER, change('amended'));
    h.clock.now += 60_000;
    await h.refresher.runDueRetries();
    expect(h.failed).toEqual([]);
    h.clock.now += 60_000;
    await h.refresher.runDueRetries();
    expect(h.failed).toHaveLength(1);
    expect(h.failed[0]).toMatchObject({ customerKey: CUSTOMER.key, trigger: 'event:amended', error: { code: ErrorCodes.ENTITLEMENT_READ } });
    expect(h.refresher.pendingRetries()).toEqual([]);
    expect(await h.stored()).toMatchObject({ entitlements: seats(10) });
  });

  it('a read that fails emits entitlementRefreshFailed, keeps the set, and a change signal is retried', async () => {
    const h = await harness();
    await h.refresher.refresh(CUSTOMER, { trigger: 'registration', changeSignal: false, endSignal: false });
    h.aws.answer = new MeterkitError(ErrorCodes.ENTITLEMENT_READ, 'GetEntitlements failed with ThrottlingException', { awsException: 'ThrottlingException' });
    await expect(h.refresher.refresh(CUSTOMER, change('amended'))).rejects.toMatchObject({ code: ErrorCodes.ENTITLEMENT_READ });
    expect(h.failed).toEqual([expect.objectContaining({ trigger: 'event:amended', error: expect.objectContaining({ awsException: 'ThrottlingException' }) })]);
    expect(h.refresher.pendingRetries()).toHaveLength(1);
    h.aws.answer = seats(20);
    h.clock.now += 60_000;
    await h.refresher.runDueRetries();
    expect(await h.stored()).toMatchObject({ entitlements: seats(20) });
  });

  it('an end signal whose read shows other values (AWS still lists the contract) is followed until the end shows', async () => {
    const h = await harness();
    await h.refresher.refresh(CUSTOMER, { trigger: 'registration', changeSignal: false, endSignal: false });
    h.aws.answer = seats(20);
    h.clock.now += 1;
    await expect(h.refresher.refresh(CUSTOMER, end('ended'))).resolves.toMatchObject({ outcome: 'changed' });
    expect(h.refresher.pendingRetries()).toHaveLength(1);
    h.aws.answer = [];
    h.clock.now += 60_000;
    await h.refresher.runDueRetries();
    expect(await h.stored()).toMatchObject({ revoked: true, trigger: 'event:ended' });
  });

  it('an end signal stays with the schedule a later change signal restarts', async () => {
    const h = await harness();
    await h.refresher.refresh(CUSTOMER, { trigger: 'registration', changeSignal: false, endSignal: false });
    // The end event came first; AWS still lists the contract.
    h.clock.now += 1;
    await h.refresher.refresh(CUSTOMER, end('ended'));
    h.clock.now += 1;
    await h.refresher.refresh(CUSTOMER, change('updated'));
    h.aws.answer = [];
    h.clock.now += 60_000;
    await h.refresher.runDueRetries();
    expect(await h.stored()).toMatchObject({ revoked: true });
  });
});

/**
 * The refresh rules, generatively: whatever the order of change signals, AWS answers (new values, the same, nothing),
 * end signals and the interleaving of two instances' concurrent refreshes (their reads and store writes),
 *  - the stored set never gets older (fetchedAt never goes back),
 *  - it is revoked only by a refresh that had an end signal and read nothing,
 *  - once everything settled, it holds the newest read that counts (values, or nothing with an end signal).
 */
describe('refresh rules (property)', () => {
  type Command =
    | { readonly kind: 'aws'; readonly answer: 'new' | 'same' | 'empty' }
    | { readonly kind: 'refresh'; readonly signal: 'change' | 'end' | 'timer'; readonly instance: 0 | 1 }
    | { readonly kind: 'tick' };
  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ kind: fc.constant('aws' as const), answer: fc.constantFrom('new' as const, 'same' as const, 'empty' as const) }),
    fc.record({ kind: fc.constant('refresh' as const), signal: fc.constantFrom('change' as const, 'end' as const, 'timer' as const), instance: fc.constantFrom(0 as const, 1 as const) }),
    fc.constant({ kind: 'tick' as const }),
  );

  it('holds for generated signals, answers and interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.tuple(command, fc.nat(3)), { minLength: 1, maxLength: 25 }), async (s, commands) => {
        const memory = new MemoryStore();
        await memory.open();
        let time = 0;
        const clock = () => ++time;
        let version = 1;
        let answer: DimensionEntitlement[] = seats(version);
        const endOf = new Map<string, boolean>();
        /** Reads in the order AWS answered them, with whether they count (values, or nothing with an end signal). */
        const reads: Array<{ entitlements: DimensionEntitlement[]; counts: boolean }> = [];
        let lastStoredAt = 0;
        const problems: string[] = [];
        const store: EntitlementStore = {
          getEntitlements: (key) => s.schedule(Promise.resolve(), 'get').then(() => memory.getEntitlements(key)),
          listEntitlements: () => memory.listEntitlements(),
          putEntitlements: async (set: EntitlementSet) => {
            if (set.revoked === true && (set.entitlements.length > 0 || endOf.get(set.trigger) !== true)) problems.push(`revoked without an end signal: ${set.trigger}`);
            await s.schedule(Promise.resolve(), `put ${set.trigger}`);
            const written = await memory.putEntitlements(set);
            const now = await memory.getEntitlements(set.customerKey);
            if (now!.fetchedAt < lastStoredAt) problems.push('the stored set got older');
            lastStoredAt = now!.fetchedAt;
            return written;
          },
          addUsageAboveIncluded: () => Promise.reject(new Error('unused')),
          listAllowanceCounters: async () => [],
        };
        // Two instances sharing the store: their refreshes of one customer interleave.
        const instance = () => new EntitlementRefresher({
          store: async () => store,
          read: (_customer, request) =>
            s.schedule(Promise.resolve(), 'read').then(() => {
              reads.push({ entitlements: answer, counts: answer.length > 0 || request.endSignal });
              return answer;
            }),
          cache: new EntitlementCache({ store: async () => store, clock, cacheMs: 5000 }),
          events: new MeteringEmitter(),
          logger: silentLogger,
          clock,
          staleRetryDelaysMs: [10_000, 20_000],
        });
        const instances = [instance(), instance()];
        let unsettled = 0;
        const running = { push: (p: Promise<unknown>) => (unsettled++, void p.finally(() => unsettled--)) };
        let n = 0;
        for (const [c, release] of commands) {
          if (c.kind === 'aws') {
            if (c.answer === 'new') version++;
            answer = c.answer === 'empty' ? [] : seats(version);
          } else if (c.kind === 'refresh') {
            const trigger = `r${n++}`;
            endOf.set(trigger, c.signal === 'end');
            running.push(instances[c.instance]!.refresh(CUSTOMER, { trigger, changeSignal: c.signal !== 'timer', endSignal: c.signal === 'end' }).catch(() => undefined));
          } else {
            time += 100_000;
            running.push(Promise.all(instances.map((r) => r.runDueRetries())));
          }
          for (let i = 0; i < release && s.count() > 0; i++) await s.waitOne();
        }
        while (s.count() > 0 || unsettled > 0) {
          await s.waitAll();
          await new Promise((resolve) => setImmediate(resolve));
        }
        expect(problems).toEqual([]);
        const newest = reads.filter((r) => r.counts).at(-1);
        const stored = await memory.getEntitlements(CUSTOMER.key);
        if (newest === undefined) {
          expect(stored).toBeUndefined();
        } else {
          expect(stored?.entitlements).toEqual(newest.entitlements);
          expect(stored?.revoked === true).toBe(newest.entitlements.length === 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
