/**
 * Invariant: paging through the registry changes no outcome. Each customer query the background and event paths
 * make (final usage, zero hours, an agreement's customers, a license by its id, the predecessor of an agreement, the
 * whole registry) answers, page by page, exactly what the filter of the full list it replaced answered; and the
 * lifecycle applied to a store that answers findCustomers() ends exactly like the lifecycle applied to the same
 * events over a store that only lists every customer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { MeteringEmitter } from '../src/events';
import { Lifecycle } from '../src/lifecycle/lifecycle';
import type { LifecycleChange, LifecycleEvent } from '../src/lifecycle/marketplace-event';
import { silentLogger } from '../src/logger';
import { customerKey, type CustomerIdentity, type CustomerRecord, type CustomerStatus } from '../src/model/customer';
import type { Product } from '../src/model/product';
import { customerPages, findFirstCustomer } from '../src/store/customer-pages';
import { MemoryStore } from '../src/store/memory-store';
import { SqliteStore } from '../src/store/sqlite';
import type { UsageStore } from '../src/store/usage-store';

const PRODUCT = 'prod-paging';
const LEGACY = 'prod-paging-legacy';
const PRODUCTS: ReadonlyMap<string, Product> = new Map([
  [PRODUCT, { productCode: PRODUCT, identity: 'license', dimensions: new Set(['api_calls']) }],
  [LEGACY, { productCode: LEGACY, identity: 'legacy', dimensions: new Set(['api_calls']) }],
]);
const AGREEMENTS = ['agmt-a', 'agmt-b', 'agmt-c', 'agmt-d'];
const T0 = Date.UTC(2026, 6, 15, 10);

/** ARN forms AWS prints, and one that ends with no license id at all. */
function arnOf(license: number, form: number): string {
  const id = `l-${String(license).padStart(8, '0')}`;
  if (form === 0) return `arn:aws:license-manager::294406891311:license:${id}`;
  if (form === 1) return `arn:aws:license-manager:us-east-1:294406891311:license/${id}`;
  return `arn:aws:license-manager::294406891311:license:lic-${license}`;
}

const identityArb: fc.Arbitrary<CustomerIdentity> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 }))
    .map(([license, form]) => ({ kind: 'license' as const, licenseArn: arnOf(license, form), customerAwsAccountId: '100000000001', productCode: PRODUCT })),
  fc.integer({ min: 0, max: 3 }).map((n) => ({ kind: 'legacy' as const, productCode: LEGACY, customerIdentifier: `cust-${n}` })),
);

const customerArb: fc.Arbitrary<CustomerRecord> = fc
  .record({
    identity: identityArb,
    status: fc.constantFrom<CustomerStatus>('registered', 'active', 'deprovisioning', 'inactive'),
    agreementId: fc.option(fc.constantFrom(...AGREEMENTS), { nil: undefined }),
    successorAgreementId: fc.option(fc.constantFrom(...AGREEMENTS), { nil: undefined }),
    deadline: fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined }),
  })
  .map(({ identity, status, agreementId, successorAgreementId, deadline }) => ({
    key: customerKey(identity),
    identity,
    status,
    registeredAt: T0,
    updatedAt: T0,
    ...(agreementId === undefined ? {} : { agreementId }),
    ...(successorAgreementId === undefined ? {} : { successorAgreementId }),
    ...(deadline === undefined ? {} : { finalUsageDeadline: T0 + deadline * 3_600_000 }),
  }));

type StoreKind = 'memory' | 'sqlite';
const directories: string[] = [];
afterAll(() => directories.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function openStore(kind: StoreKind): Promise<UsageStore> {
  if (kind === 'memory') return new MemoryStore();
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-paging-prop-'));
  directories.push(directory);
  const store = new SqliteStore({ path: path.join(directory, 'meterkit.db') });
  await store.open();
  return store;
}

/** The store as a third-party store without findCustomers(): the engine lists every customer, as it did before. */
function listingOnly(store: UsageStore): UsageStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'findCustomers') return undefined;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function keysOf(pages: AsyncGenerator<CustomerRecord[]>): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of pages) keys.push(...page.map((c) => c.key));
  return keys;
}

describe.each(['memory', 'sqlite'] as const)('customer paging on the %s store', (kind) => {
  it('answers every query as the filter of the full list it replaced did, at any page size, after any writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(customerArb, { maxLength: 25 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(...AGREEMENTS, 'agmt-none'),
        fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2 })),
        async (writes, pageSize, agreement, [license, form]) => {
          const store = await openStore(kind);
          try {
            for (const customer of writes) await store.putCustomer(customer);
            const all = await store.listCustomers();
            const keys = (list: CustomerRecord[]) => list.map((c) => c.key);

            expect(await keysOf(customerPages(store, { status: 'deprovisioning' }, pageSize))).toEqual(keys(all.filter((c) => c.status === 'deprovisioning')));
            expect(await keysOf(customerPages(store, { status: 'active' }, pageSize))).toEqual(keys(all.filter((c) => c.status === 'active')));
            expect(await keysOf(customerPages(store, { agreementId: agreement }, pageSize))).toEqual(keys(all.filter((c) => c.agreementId === agreement)));
            expect(await keysOf(customerPages(store, {}, pageSize))).toEqual(keys(all));

            // findLicense() before: the first customer in key order whose license ARN ends with the id.
            const arn = arnOf(license, form);
            const id = /(l-[0-9a-zA-Z]+)$/.exec(arn)?.[1];
            const byLicense = id === undefined ? undefined : all.find((c) => c.identity.kind === 'license' && c.identity.licenseArn.endsWith(id));
            expect(id === undefined ? undefined : (await findFirstCustomer(store, { licenseId: id }))?.key).toBe(byLicense?.key);

            // predecessorOf() before.
            for (const customer of all) {
              const before = all.find((c) => c.successorAgreementId === agreement && (c.key !== customer.key || c.agreementId !== agreement));
              const now = await findFirstCustomer(store, { successorAgreementId: agreement }, (c) => c.key !== customer.key || c.agreementId !== agreement);
              expect(now?.key).toBe(before?.key);
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: kind === 'sqlite' ? 40 : 100 },
    );
  });

  const changeArb: fc.Arbitrary<LifecycleChange> = fc.oneof(
    fc
      .tuple(fc.constantFrom('license-updated' as const, 'license-deprovisioned' as const), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 }), fc.option(fc.constantFrom(...AGREEMENTS), { nil: undefined }))
      .map(([k, license, form, agreementId]) => ({ kind: k, licenseArn: arnOf(license, form), productCode: PRODUCT, accountId: '100000000001', ...(agreementId === undefined ? {} : { agreementId }) })),
    fc.constantFrom(...AGREEMENTS).map((agreementId) => ({ kind: 'agreement-amended' as const, agreementId })),
    fc
      .tuple(fc.constantFrom(...AGREEMENTS), fc.constantFrom('CANCELLED', 'EXPIRED', 'RENEWED', 'REPLACED'))
      .map(([agreementId, status]) => ({ kind: 'agreement-ended' as const, agreementId, status })),
    fc
      .tuple(fc.constantFrom(...AGREEMENTS), fc.constantFrom(...AGREEMENTS))
      .map(([agreementId, previousAgreementId]) => ({ kind: 'agreement-created' as const, agreementId, previousAgreementId })),
    fc
      .tuple(fc.constantFrom('legacy-subscribe-success' as const, 'legacy-unsubscribe-pending' as const, 'legacy-unsubscribe-success' as const), fc.integer({ min: 0, max: 3 }))
      .map(([k, n]) => ({ kind: k, productCode: LEGACY, customerIdentifier: `cust-${n}` })),
  );

  it('applies any sequence of lifecycle events and final-usage checks with the same outcomes as over the full list', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(customerArb, { maxLength: 15 }),
        fc.array(fc.oneof(fc.record({ change: changeArb, minutes: fc.integer({ min: -30, max: 30 }) }), fc.constant('final-usage' as const)), { maxLength: 12 }),
        async (writes, steps) => {
          const paged = await openStore(kind);
          const listed = await openStore('memory');
          try {
            for (const customer of writes) {
              await paged.putCustomer(customer);
              await listed.putCustomer(customer);
            }
            let clock = T0;
            const lifecycleOn = (store: UsageStore, log: string[]) => {
              const events = new MeteringEmitter();
              events.on('subscription', (e) => log.push(`${e.change} ${e.customer.key} ${e.previous?.key ?? ''}`));
              return new Lifecycle({
                store: async () => store,
                products: PRODUCTS,
                events,
                logger: silentLogger,
                clock: () => clock,
                finalFlush: (keys) => log.push(`flush ${keys.join(',')}`),
                forget: () => undefined,
                finalUsageMs: 3_600_000,
                maxFutureSkewMs: 3_600_000,
              });
            };
            const logs: [string[], string[]] = [[], []];
            const lifecycles = [lifecycleOn(paged, logs[0]), lifecycleOn(listingOnly(listed), logs[1])];
            for (const [i, step] of steps.entries()) {
              clock += 10 * 60_000;
              if (step === 'final-usage') {
                const [a, b] = await Promise.all(lifecycles.map((l) => l.finalUsageCustomers()));
                expect(a).toEqual(b);
                continue;
              }
              const event: LifecycleEvent = { id: `event-${i}`, time: clock + step.minutes * 60_000, type: step.change.kind, change: step.change };
              const [a, b] = [await lifecycles[0]!.apply(event), await lifecycles[1]!.apply(event)];
              expect(a).toBe(b);
            }
            expect(logs[0]).toEqual(logs[1]);
            expect(await paged.listCustomers()).toEqual(await listed.listCustomers());
          } finally {
            await paged.close();
            await listed.close();
          }
        },
      ),
      { numRuns: kind === 'sqlite' ? 40 : 100 },
    );
  });
});
