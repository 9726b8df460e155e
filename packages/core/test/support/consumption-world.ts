import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import {
  createMetering,
  customerKey,
  MemoryStore,
  silentLogger,
  SqliteStore,
  type AddUsageAboveIncludedResult,
  type AddUsageResult,
  type CustomerIdentity,
  type EntitlementSet,
  type EntitlementStore,
  type IncludedUse,
  type Metering,
  type ProductConfig,
  type UsageDelta,
  type UsageStore,
} from '../../src';

export const CONSUMPTION_PRODUCT = 'prod-consumption';
/** Metered dimension → the entitlement that includes it and its period; `storage` is pay-as-you-go in full. */
export const INCLUDED = {
  api_calls: { entitlement: 'api_quota', period: 'hour' },
  exports: { entitlement: 'export_quota', period: 'month' },
} as const;
export const METERED = ['api_calls', 'exports', 'storage'] as const;
export type MeteredDimension = (typeof METERED)[number];
export type Allowance = (typeof INCLUDED)[keyof typeof INCLUDED]['entitlement'];

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export const PRODUCT: ProductConfig = {
  productCode: CONSUMPTION_PRODUCT,
  dimensions: [...METERED],
  pricing: 'contract-with-consumption',
  entitlements: ['api_quota', 'export_quota', 'seats'],
  included: { api_calls: { entitlement: 'api_quota' }, exports: { entitlement: 'export_quota', period: 'month' } },
};

export type StoreFault = 'ok' | 'fail' | 'lost-answer';

/** One store write as the store applied it, in the order the store applied them. */
export interface AppliedWrite {
  readonly engine: number;
  readonly batchId: string | undefined;
  readonly deltas: readonly UsageDelta[];
  readonly uses: readonly IncludedUse[];
  /** What the store answered it metered per use. */
  readonly metered: readonly number[];
  /** How many entitlement changes (world.raiseLog) were made before the write: it was measured against one of the values up to then. */
  readonly raisesBefore: number;
}

type ContractStore = UsageStore & EntitlementStore;

/**
 * A handle on the shared store for one engine: logs every write the store applied (in the order it applied them),
 * makes the next writes fail or lose their answer (`faults`), and passes writes through `gate` first (a scheduler
 * decides the order concurrent writes reach the store).
 */
class ObservedStore {
  faults: StoreFault[] = [];
  gate: ((label: string) => Promise<void>) | undefined;

  constructor(
    readonly engine: number,
    private readonly inner: ContractStore,
    private readonly world: ConsumptionWorld,
    private readonly ownsInner: boolean,
  ) {}

  handle(): ContractStore {
    const self = this;
    return new Proxy(this.inner, {
      get(store, property, receiver) {
        if (property === 'close') return async () => (self.ownsInner ? store.close() : undefined);
        if (property === 'addUsage') return (deltas: readonly UsageDelta[], batchId?: string) => self.write(deltas, [], batchId, () => store.addUsage(deltas, batchId));
        if (property === 'addUsageAboveIncluded') {
          return (deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string) =>
            self.write(deltas, uses, batchId, () => store.addUsageAboveIncluded(deltas, uses, batchId));
        }
        const value: unknown = Reflect.get(store, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store) : value;
      },
    });
  }

  private async write(
    deltas: readonly UsageDelta[],
    uses: readonly IncludedUse[],
    batchId: string | undefined,
    apply: () => Promise<AddUsageResult | AddUsageAboveIncludedResult>,
  ): Promise<AddUsageResult> {
    if (this.gate !== undefined) await this.gate(`engine ${this.engine} writes ${deltas.length + uses.length} deltas`);
    const fault = this.faults.shift() ?? 'ok';
    if (fault === 'fail') throw new Error('connection refused');
    // Both stores apply a write synchronously when it is called: the log is in the order they applied them.
    const raisesBefore = this.world.raiseLog.length;
    const landing = apply();
    const result = await landing;
    if (result.applied !== false) {
      this.world.applied.push({ engine: this.engine, batchId, deltas, uses, metered: 'metered' in result ? result.metered : [], raisesBefore });
    }
    if (fault === 'lost-answer') throw new Error('connection reset');
    return result;
  }
}

export interface Engine {
  readonly id: number;
  readonly metering: Metering;
  readonly store: ObservedStore;
}

export interface ConsumptionWorldOptions {
  readonly store: 'memory' | 'sqlite';
  readonly engines: number;
  readonly customers: number;
  /** Start of both clocks (ms epoch). */
  readonly start: number;
  /** Initial api_quota and export_quota of each customer. */
  readonly initial: readonly { readonly api_quota: number; readonly export_quota: number }[];
  /** The engines' entitlements.cacheMs. */
  readonly cacheMs: number;
}

/**
 * Several engines (app instances) on one store (a MemoryStore they share, or one SQLite file), a
 * contract-with-consumption product at the emulator, its buyers' entitlement sets in the store. Engines can crash
 * (be dropped without close(): their in-memory usage is lost) and be replaced.
 */
export class ConsumptionWorld {
  readonly engines: Engine[] = [];
  readonly customers: Array<{ identity: CustomerIdentity; key: string; licenseArn: string }> = [];
  /** Every write the store applied, in order. */
  readonly applied: AppliedWrite[] = [];
  /** Each customer's entitlement values after each change: history[c][allowance][i] is the value after i raises of it. */
  readonly history: Array<Record<Allowance, number[]>> = [];
  /** Entitlement changes so far (all customers), in order. */
  readonly raiseLog: Array<{ customer: number; allowance: Allowance }> = [];
  /** Per engine incarnation (index = engine id): units recorded per `${customer}|${dimension}|${hour}`. */
  readonly recorded: Array<Map<string, number>> = [];
  /** Engine ids that were dropped without close(). */
  readonly crashed = new Set<number>();
  private readonly shared: MemoryStore | undefined;
  private readonly dir: string | undefined;
  private nextEngine = 0;
  private lastFetchedAt = 0;

  private constructor(
    readonly emu: Emulator,
    readonly options: ConsumptionWorldOptions,
  ) {
    this.shared = options.store === 'memory' ? new MemoryStore() : undefined;
    this.dir = options.store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'meterkit-consumption-')) : undefined;
  }

  static async start(options: ConsumptionWorldOptions): Promise<ConsumptionWorld> {
    const emu = await startEmulator({
      now: options.start,
      products: [{ productCode: CONSUMPTION_PRODUCT, dimensions: [...METERED], pricing: 'contract-with-consumption', contractDimensions: ['api_quota', 'export_quota', 'seats'] }],
    });
    const world = new ConsumptionWorld(emu, options);
    try {
      for (let e = 0; e < options.engines; e++) world.engines.push(world.newEngine());
      for (let c = 0; c < options.customers; c++) {
        const initial = options.initial[c]!;
        const subscription = await emu.subscribe({ productCode: CONSUMPTION_PRODUCT, contract: { dimensions: { ...initial, seats: 5 } } });
        const identity: CustomerIdentity = { kind: 'license', licenseArn: subscription.licenseArn!, customerAwsAccountId: subscription.accountId, productCode: CONSUMPTION_PRODUCT };
        world.customers.push({ identity, key: customerKey(identity), licenseArn: subscription.licenseArn! });
        world.history.push({ api_quota: [initial.api_quota], export_quota: [initial.export_quota] });
        await world.putSet(c);
      }
    } catch (error) {
      await world.close();
      throw error;
    }
    return world;
  }

  now(): number {
    return this.emu.clock.now();
  }

  /** Raises one entitlement of a customer by `by` and stores the customer's new set, as a refresh after an amendment does. */
  async raise(customer: number, allowance: Allowance, by: number): Promise<void> {
    const values = this.history[customer]![allowance];
    values.push(values[values.length - 1]! + by);
    this.raiseLog.push({ customer, allowance });
    await this.putSet(customer);
  }

  current(customer: number, allowance: Allowance): number {
    const values = this.history[customer]![allowance];
    return values[values.length - 1]!;
  }

  record(engine: number, customer: number, dimension: MeteredDimension, quantity: number): void {
    const e = this.engines[engine]!;
    const meter = e.metering.meter(this.customers[customer]!.identity);
    meter.record(dimension, quantity);
    void meter.commit();
    const key = `${customer}|${dimension}|${meter.hour}`;
    const recorded = this.recorded[e.id]!;
    recorded.set(key, (recorded.get(key) ?? 0) + quantity);
  }

  /** Drops the engine without close(), as when its process dies, and starts a new one in its place. */
  async crash(engine: number): Promise<void> {
    const old = this.engines[engine]!;
    this.crashed.add(old.id);
    await old.metering.store.close();
    this.engines[engine] = this.newEngine();
  }

  /** Every engine persists; store writes pass `gate` and the engines' next writes meet `faults`. Answers what each persist did. */
  async persistAll(faults: readonly StoreFault[][] = [], gate?: (label: string) => Promise<void>, wait?: <T>(p: Promise<T>) => Promise<T>): Promise<PromiseSettledResult<void>[]> {
    this.engines.forEach((e, i) => {
      e.store.faults = [...(faults[i] ?? [])];
      e.store.gate = gate;
    });
    try {
      const all = Promise.allSettled(this.engines.map((e) => e.metering.persist()));
      return await (wait === undefined ? all : wait(all));
    } finally {
      for (const e of this.engines) {
        e.store.faults = [];
        e.store.gate = undefined;
      }
    }
  }

  /** Moves both clocks (the engines read the emulator's). */
  setTime(to: number): void {
    this.emu.clock.set(to);
  }

  async close(): Promise<void> {
    for (const e of this.engines) await e.metering.close().catch(() => undefined);
    await this.emu.close();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }

  private async putSet(customer: number): Promise<void> {
    const c = this.customers[customer]!;
    this.lastFetchedAt = Math.max(this.lastFetchedAt + 1, this.now());
    const set: EntitlementSet = {
      customerKey: c.key,
      productCode: CONSUMPTION_PRODUCT,
      entitlements: [
        { dimension: 'api_quota', value: this.current(customer, 'api_quota'), valueType: 'integer' },
        { dimension: 'export_quota', value: this.current(customer, 'export_quota'), valueType: 'integer' },
        { dimension: 'seats', value: 5, valueType: 'integer' },
      ],
      fetchedAt: this.lastFetchedAt,
      trigger: `event:raise-${this.raiseLog.length}`,
    };
    const engine = this.engines[0]!.metering;
    // Opens the store if the engine has not yet.
    await engine.listCustomers();
    const store = engine.store as unknown as EntitlementStore;
    if (!(await store.putEntitlements(set))) throw new Error('the store refused a newer entitlement set');
  }

  private newEngine(): Engine {
    const id = this.nextEngine++;
    const inner: ContractStore = this.shared ?? new SqliteStore({ path: join(this.dir!, 'usage.db') });
    const store = new ObservedStore(id, inner, this, this.shared === undefined);
    this.recorded[id] = new Map();
    const metering = createMetering({
      products: [PRODUCT],
      store: store.handle(),
      aws: { region: 'us-east-1', endpoint: this.emu.endpoint, credentials: CREDENTIALS },
      clock: () => this.emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      durability: 'interval',
      lockMinutes: 0,
      storeTimeoutMs: 600_000,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      requestsPerSecond: 10_000,
      entitlements: { cacheMs: this.options.cacheMs },
    });
    return { id, metering, store };
  }
}
