import { normalizeLicenseArn } from '../src/lifecycle/marketplace-event';
import { MemoryStore, type LifecycleEvent, type ProductConfig, type UsageStore } from '../src';
import { SqliteStore } from '../src/store/sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorWorld, type EmulatorWorld } from '../../../tools/testing/emulator-world/emulator-world';

const LICENSED = 'prod-licensed';
const LEGACY = 'prod-legacy';
const CONTRACT = 'prod-contract';
const PRODUCTS: ProductConfig[] = [
  { productCode: LICENSED, dimensions: ['api_calls'] },
  { productCode: LEGACY, dimensions: ['api_calls'], identity: 'legacy' },
  { productCode: CONTRACT, dimensions: [], pricing: 'contract', entitlements: ['seats'] },
];

/** The store, counting the calls that read every customer at once. */
function counting(store: UsageStore): { store: UsageStore; listed: () => number; found: () => number } {
  let listed = 0;
  let found = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'listCustomers') return (...args: unknown[]) => ((listed += 1), (value as (...a: unknown[]) => unknown).apply(target, args));
      if (property === 'findCustomers') return (...args: unknown[]) => ((found += 1), (value as (...a: unknown[]) => unknown).apply(target, args));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { store: proxy, listed: () => listed, found: () => found };
}

let sequence = 0;
function event(time: number, change: LifecycleEvent['change']): LifecycleEvent {
  sequence += 1;
  return { id: `event-${sequence}`, time, type: change?.kind ?? 'none', change };
}

describe.each(['memory', 'sqlite'] as const)('background and event paths on the %s store read customers a page at a time', (kind) => {
  let world: EmulatorWorld;
  let directory: string;
  let counted: ReturnType<typeof counting>;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'meterkit-paging-'));
    counted = counting(kind === 'memory' ? new MemoryStore() : new SqliteStore({ path: join(directory, 'meterkit.db') }));
    world = await startEmulatorWorld({ products: PRODUCTS, metering: { store: counted.store, zeroHours: true, requestsPerSecond: 10 } });
  });
  afterEach(async () => {
    await world.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('never calls listCustomers() on a flush, a lifecycle event of any kind or a contract refresh', async () => {
    const { metering } = world;
    const buyers = await Promise.all([0, 1, 2].map((i) => world.buyer(LICENSED, `tenant-${i}`)));
    const legacy = await world.buyer(LEGACY, 'tenant-legacy');
    const contract = await world.subscribe(CONTRACT);
    await metering.resolveRegistration(contract.subscription.token).catch(() => undefined);
    const now = world.emu.clock.now();
    const first = buyers[0]!.subscription;
    const second = buyers[1]!.subscription;
    // The license ARN in another form than stored: found by its license id.
    const otherForm = first.licenseArn!.replace(/^arn:aws:license-manager::(\d+):license:/, 'aws:license-manager:us-east-1:$1:license/');
    expect(normalizeLicenseArn(otherForm)).not.toBe(first.licenseArn);

    const outcomes = [];
    for (const change of [
      { kind: 'license-updated', licenseArn: normalizeLicenseArn(otherForm), productCode: LICENSED, accountId: first.accountId, agreementId: first.agreementId },
      ...[second, buyers[2]!.subscription, contract.subscription].map((s) => ({
        kind: 'license-updated' as const,
        licenseArn: s.licenseArn!,
        productCode: s.productCode,
        accountId: s.accountId,
        agreementId: s.agreementId,
      })),
      { kind: 'agreement-amended', agreementId: second.agreementId },
      { kind: 'agreement-created', agreementId: 'agmt-successor', previousAgreementId: second.agreementId },
      { kind: 'license-updated', licenseArn: second.licenseArn!, productCode: LICENSED, accountId: second.accountId, agreementId: 'agmt-successor' },
      { kind: 'agreement-ended', agreementId: buyers[2]!.subscription.agreementId, status: 'CANCELLED' },
      { kind: 'legacy-unsubscribe-pending', productCode: LEGACY, customerIdentifier: legacy.subscription.customerIdentifier! },
      { kind: 'agreement-ended', agreementId: contract.subscription.agreementId, status: 'CANCELLED' },
    ]) {
      outcomes.push(await metering.applyLifecycleEvent(event(now - 1000 + outcomes.length, change as LifecycleEvent['change'])));
    }
    expect(outcomes).toEqual(Array(10).fill('applied'));
    await expect(metering.getCustomer(`license:${normalizeLicenseArn(otherForm)}`)).resolves.toBeUndefined();
    await expect(metering.getCustomer(buyers[0]!.customer.key)).resolves.toMatchObject({ status: 'active', agreementId: first.agreementId });
    await expect(metering.getCustomer(buyers[1]!.customer.key)).resolves.toMatchObject({ agreementId: 'agmt-successor' });
    await metering.idle();
    world.setTime('2026-07-15T13:30:00Z');
    await metering.flush();
    await metering.refreshDueEntitlements();
    await expect(metering.getCustomer(buyers[2]!.customer.key)).resolves.toMatchObject({ status: 'inactive' });

    expect(counted.listed()).toBe(0);
    expect(counted.found()).toBeGreaterThan(0);
  });
});
