import { startEmulator, type Emulator, type Subscription } from '@meterkit/emulator';
import {
  createMetering,
  customerKey,
  silentLogger,
  type CustomerIdentity,
  type Metering,
  type MeteringOptions,
  type UsageStore,
} from '../../../src';
import type { Interleaver } from './interleaver';
import type { EventTargets } from './lifecycle-events';
import { scheduledClient } from './scheduled-client';
import { FaultPlan, scheduledStore } from './scheduled-store';

/** How a store package gives the race kit its store. */
export interface RaceStoreHarness {
  /**
   * `count` handles on one fresh, empty backing store (one file, schema or table per call), as separate app
   * instances would open it. The kit opens and closes them.
   */
  openShared(count: number): Promise<UsageStore[]>;
  /** Called after each run, once every handle is closed. */
  dispose?(): Promise<void>;
  /** Options every engine instance of a run gets, after the kit's own. */
  readonly meteringOptions?: Partial<MeteringOptions>;
}

export const LICENSED = 'prod-race-license';
export const LEGACY = 'prod-race-legacy';
export const DIMENSION = 'api_calls';
export const USAGE_TENANT = 'tenant-usage';
export const FINAL_USAGE_MINUTES = 50;
const HOUR_MS = 3_600_000;
/** Phase 1 meters the 10:00 hour; the race runs at 11:35, when that hour is due and the next one open. */
export const START = Date.parse('2026-07-15T10:20:00Z');
export const RACE_TIME = Date.parse('2026-07-15T11:35:00Z');
export const CLOSED_HOUR = Date.parse('2026-07-15T10:00:00Z');
/** Second 0 of the run's lifecycle events; race events come later, all before RACE_TIME. */
export const EVENT_BASE = RACE_TIME - 40 * 60_000;

function identityOf(subscription: Subscription): CustomerIdentity {
  return subscription.licenseArn !== undefined
    ? { kind: 'license', licenseArn: subscription.licenseArn, customerAwsAccountId: subscription.accountId, productCode: subscription.productCode }
    : { kind: 'legacy', customerIdentifier: subscription.customerIdentifier!, productCode: subscription.productCode };
}

export interface RaceWorld {
  readonly emu: Emulator;
  readonly instances: Metering[];
  /** A handle nobody schedules, to read the final state. */
  readonly observer: UsageStore;
  readonly plan: FaultPlan;
  readonly license: { readonly subscription: Subscription; readonly key: string };
  readonly legacy: { readonly subscription: Subscription; readonly key: string };
  readonly usage: { readonly subscription: Subscription; readonly key: string; readonly identity: CustomerIdentity };
  readonly targets: EventTargets;
  /** Units committed before the race, in CLOSED_HOUR. */
  readonly seededUnits: number;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly instances: number;
  readonly scheduler: Interleaver;
  readonly plan?: FaultPlan;
  /** Units committed and persisted in CLOSED_HOUR before the race (one commit each). */
  readonly seedCommits?: readonly number[];
  readonly options?: Partial<MeteringOptions>;
}

export function engineOptions(emu: Emulator, store: UsageStore | 'memory', extra: Partial<MeteringOptions>): MeteringOptions {
  return {
    products: [
      { productCode: LICENSED, dimensions: [DIMENSION] },
      { productCode: LEGACY, dimensions: [DIMENSION], identity: 'legacy' },
    ],
    store,
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    requestsPerSecond: 10_000,
    tenantCacheMs: 0,
    finalUsageMinutes: FINAL_USAGE_MINUTES,
    // The scheduler decides when a store call answers, not the wall clock: no request-path bound unless a run sets one.
    storeTimeoutMs: 600_000,
    ...extra,
  };
}

/**
 * An emulator, a licensed, a legacy and a usage customer, and `instances` engines on one backing store, each
 * through its own scheduled store handle and scheduled AWS client. Seeding runs unscheduled, on its own handle:
 * registration of the three customers, License Updated (second 0) for both licenses, the usage tenant linked,
 * and `seedCommits` persisted in CLOSED_HOUR. The clock is then at RACE_TIME.
 */
export async function startRaceWorld(harness: RaceStoreHarness, o: WorldOptions): Promise<RaceWorld> {
  const emu = await startEmulator({
    now: START,
    products: [
      { productCode: LICENSED, dimensions: [DIMENSION], identity: 'license' },
      { productCode: LEGACY, dimensions: [DIMENSION], identity: 'legacy' },
    ],
  });
  const opened: UsageStore[] = [];
  try {
    const handles = await harness.openShared(o.instances + 2);
    for (const handle of handles) {
      await handle.open();
      opened.push(handle);
    }
    const seeder = createMetering(engineOptions(emu, handles[o.instances]!, harness.meteringOptions ?? {}));
    const observer = handles[o.instances + 1]!;
    const [lic, leg, use] = [
      await emu.subscribe({ productCode: LICENSED }),
      await emu.subscribe({ productCode: LEGACY }),
      await emu.subscribe({ productCode: LICENSED }),
    ];
    const license = { subscription: lic, key: customerKey(identityOf(lic)) };
    const legacy = { subscription: leg, key: customerKey(identityOf(leg)) };
    const usage = { subscription: use, key: customerKey(identityOf(use)), identity: identityOf(use) };
    for (const s of [lic, leg, use]) await seeder.resolveRegistration(s.token);
    let seededUnits = 0;
    for (const units of o.seedCommits ?? []) {
      await seeder.meter(usage.identity).record(DIMENSION, units).commit();
      seededUnits += units;
    }
    await seeder.persist();
    emu.clock.set(RACE_TIME);
    const licenseUpdated = (s: Subscription, id: string) =>
      seeder.applyLifecycleEvent({
        id,
        time: EVENT_BASE,
        type: 'License Updated',
        change: { kind: 'license-updated', licenseArn: s.licenseArn!, productCode: LICENSED, accountId: s.accountId, agreementId: s.agreementId },
      });
    await licenseUpdated(lic, 'seed-license');
    await licenseUpdated(use, 'seed-usage');
    await seeder.linkTenant(usage.key, USAGE_TENANT);
    await seeder.close();

    const plan = o.plan ?? new FaultPlan();
    const instances = handles.slice(0, o.instances).map((handle, i) =>
      createMetering(
        engineOptions(emu, scheduledStore(handle, o.scheduler, `i${i}`, plan), {
          aws: { client: scheduledClient(emu.endpoint, o.scheduler, `i${i}`) },
          ...harness.meteringOptions,
          ...o.options,
        }),
      ),
    );
    return {
      emu,
      instances,
      observer,
      plan,
      license,
      legacy,
      usage,
      seededUnits,
      targets: {
        licenseArn: lic.licenseArn!,
        accountId: lic.accountId,
        agreementId: lic.agreementId,
        licensedProduct: LICENSED,
        legacyProduct: LEGACY,
        customerIdentifier: leg.customerIdentifier!,
        base: EVENT_BASE,
      },
      close: async () => {
        await plan.heal();
        // Closing persists through the scheduled handles: the scheduler has to run those calls.
        await o.scheduler.waitFor(Promise.allSettled(instances.map((instance) => instance.close())));
        await observer.close().catch(() => undefined);
        await harness.dispose?.();
        await emu.close();
      },
    };
  } catch (error) {
    for (const handle of opened) await handle.close().catch(() => undefined);
    await harness.dispose?.();
    await emu.close();
    throw error;
  }
}

/** Units of the usage customer in the store, over every hour and state. */
export async function storedUnits(store: UsageStore, key: string): Promise<number> {
  return (await store.listRecords({ customerKey: key })).reduce((sum, record) => sum + record.quantity, 0);
}

export { HOUR_MS };
