import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchMeterUsageCommand,
  MarketplaceMeteringClient,
  MeterUsageCommand,
  type BatchMeterUsageCommandInput,
  type MeterUsageCommandInput,
  type UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import {
  createMetering,
  customerKey,
  hourOf,
  productIdentity,
  silentLogger,
  SqliteStore,
  type CustomerIdentity,
  type Metering,
  type MeteringEvents,
  type MeteringOptions,
  type StoredRecord,
  type UsageStore,
} from '../../src';
import { identityOf } from './world';

export const H_LICENSED = 'prod-licensed';
export const H_LEGACY = 'prod-legacy';
export const H_AMI = 'prod-ami';
/** Dimensions request meters use. */
export const METERED_DIMENSIONS = ['api_calls', 'gb_processed'] as const;
/** Dimensions only setTotal() uses, so finalized totals never meet metered usage. */
export const TOTAL_DIMENSIONS = ['seats'] as const;
const ALL_DIMENSIONS = [...METERED_DIMENSIONS, ...TOTAL_DIMENSIONS];
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The customers of a run: two licenses, one legacy buyer and the product itself (MeterUsage). */
export type Slot = 'lic0' | 'lic1' | 'legacy' | 'product';
export const SLOTS: readonly Slot[] = ['lic0', 'lic1', 'legacy', 'product'];

export interface HarnessOptions {
  readonly store: 'memory' | 'sqlite';
  readonly durability: 'interval' | 'sync';
  readonly lockMinutes: number;
  /** Start time of both clocks (ms epoch). */
  readonly start: number;
  /** Configure the product-mode product (MeterUsage) besides the SaaS products. */
  readonly productMode: boolean;
}

export interface SlotInfo {
  readonly slot: Slot;
  readonly identity: CustomerIdentity;
  readonly key: string;
  readonly accountId?: string;
  readonly licenseArn?: string;
  readonly customerIdentifier?: string;
}

/**
 * Where the held call of a flush is when the process dies (EngineHarness.crashMidSend): waiting for its send slot
 * (the store has not granted it), on the wire before AWS applied it (the request never arrives), or applied by AWS
 * with the answer lost with the process.
 */
export type SendPhase = 'waiting-for-slot' | 'on-the-wire' | 'answer-lost';
export const SEND_PHASES: readonly SendPhase[] = ['waiting-for-slot', 'on-the-wire', 'answer-lost'];

/** A (customer, dimension, hour) a call carried, as the model names it. */
export interface CarriedKey {
  readonly slot: Slot;
  readonly dimension: string;
  readonly hour: number;
}

/** The call crashMidSend holds: the `index`-th metering call of the flush, in `phase`. */
interface Hold {
  readonly phase: SendPhase;
  readonly index: number;
  seen: number;
  readonly reached: (carried: readonly CarriedKey[]) => void;
}

const METERING_COMMANDS = new Set(['BatchMeterUsageCommand', 'MeterUsageCommand']);

/** A call that failed with no answer (reset, timeout) or a 5xx may have been applied; a 4xx (throttling too) was not. */
function mayHaveApplied(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}
/** The send quota's scope of BatchMeterUsage and MeterUsage calls in the store. */
const METERING_SCOPE = 'metering';
/** What a process that died waits on: nothing ever settles it. */
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Everything the engine emitted, across restarts, by record id. */
export interface EventLog {
  readonly sent: Map<string, number>;
  readonly duplicate: Map<string, number>;
  readonly expired: Map<string, number>;
  readonly late: Array<{ customerKey: string; dimension: string; hour: number; quantity: number }>;
  /** Customer keys that were told to stop metering (deprovisioning or ended). */
  readonly stopped: Set<string>;
}

function bump(map: Map<string, number>, id: string): void {
  map.set(id, (map.get(id) ?? 0) + 1);
}

/**
 * The system under test of the generative suites: the emulator, the real SDK client over HTTP, and a Metering
 * instance on a memory store or a SQLite file that can crash (be dropped without close()) and restart.
 */
export class EngineHarness {
  metering!: Metering;
  readonly events: EventLog = { sent: new Map(), duplicate: new Map(), expired: new Map(), late: [], stopped: new Set() };
  readonly slots = new Map<Slot, SlotInfo>();
  private readonly seeder: MarketplaceMeteringClient;
  private readonly dir: string | undefined;
  private instances = 0;
  /** The call to hold in the running flush, while crashMidSend waits for it. */
  private hold: Hold | undefined;
  /** The current instance's client: crashed instances' clients are destroyed. */
  private client: MarketplaceMeteringClient | undefined;
  /** Keys carried by calls that failed without a definite answer (no answer, or a 5xx), not yet taken by the model. */
  private uncertain: CarriedKey[] = [];
  /** Metering calls a crashed instance tried to make after it died (none may). */
  readonly callsAfterDeath: string[] = [];
  /** How many crashMidSend calls held their call in each phase, and how many found no such call. */
  readonly midSendCrashes: Record<SendPhase | 'no-call', number> = { 'waiting-for-slot': 0, 'on-the-wire': 0, 'answer-lost': 0, 'no-call': 0 };

  private constructor(
    readonly emu: Emulator,
    readonly options: HarnessOptions,
  ) {
    this.seeder = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    this.dir = options.store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'meterkit-gen-')) : undefined;
  }

  static async start(options: HarnessOptions): Promise<EngineHarness> {
    const emu = await startEmulator({
      now: options.start,
      products: [
        { productCode: H_LICENSED, dimensions: ALL_DIMENSIONS, identity: 'license' },
        { productCode: H_LEGACY, dimensions: ALL_DIMENSIONS, identity: 'legacy' },
        { productCode: H_AMI, dimensions: ALL_DIMENSIONS },
      ],
    });
    const harness = new EngineHarness(emu, options);
    try {
      harness.open();
      for (const slot of ['lic0', 'lic1', 'legacy'] as const) {
        const subscription = await emu.subscribe({ productCode: slot === 'legacy' ? H_LEGACY : H_LICENSED });
        const record = await harness.metering.resolveRegistration(subscription.token);
        const identity = identityOf(subscription);
        harness.slots.set(slot, {
          slot,
          identity: record.identity,
          key: customerKey(identity),
          accountId: subscription.accountId,
          ...(subscription.licenseArn === undefined ? {} : { licenseArn: subscription.licenseArn }),
          ...(subscription.customerIdentifier === undefined ? {} : { customerIdentifier: subscription.customerIdentifier }),
        });
      }
      if (options.productMode) {
        const product = productIdentity(H_AMI);
        harness.slots.set('product', { slot: 'product', identity: product, key: customerKey(product) });
      }
    } catch (error) {
      await harness.close();
      throw error;
    }
    return harness;
  }

  info(slot: Slot): SlotInfo {
    return this.slots.get(slot)!;
  }

  now(): number {
    return this.emu.clock.now();
  }

  meteringOptions(): MeteringOptions {
    const store: UsageStore | string = this.dir === undefined ? 'memory' : this.holdingStore(new SqliteStore({ path: join(this.dir, 'usage.db') }));
    return {
      products: [
        { productCode: H_LICENSED, dimensions: ALL_DIMENSIONS },
        { productCode: H_LEGACY, dimensions: ALL_DIMENSIONS, identity: 'legacy' },
        ...(this.options.productMode ? [{ productCode: H_AMI, dimensions: ALL_DIMENSIONS, identity: 'product' as const }] : []),
      ],
      store,
      aws: { client: this.holdingClient(), region: 'us-east-1', endpoint: this.emu.endpoint, credentials: CREDENTIALS },
      clock: () => this.emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      durability: this.options.durability,
      lockMinutes: this.options.lockMinutes,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      requestsPerSecond: 10_000,
    };
  }

  /**
   * The store handle of one instance: takeSendSlot() of the metering scope holds the call crashMidSend waits for
   * (the store never grants its slot), and is the store itself otherwise.
   */
  private holdingStore(store: SqliteStore): UsageStore {
    return new Proxy(store, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (property !== 'takeSendSlot') return (value as (...args: unknown[]) => unknown).bind(target);
        return (scope: string, now: number, capacity: number, windowMs: number): Promise<number> => {
          const hold = this.hold;
          if (scope === METERING_SCOPE && hold?.phase === 'waiting-for-slot' && hold.seen++ === hold.index) {
            hold.reached([]);
            return never();
          }
          return target.takeSendSlot(scope, now, capacity, windowMs);
        };
      },
    });
  }

  /**
   * The SDK client of one instance, with a step at the wire the engine does not know of: it holds the call
   * crashMidSend waits for before it leaves (AWS never gets it) or after AWS answered (the answer never comes
   * back), and refuses every metering call once the instance died.
   */
  private holdingClient(): MarketplaceMeteringClient {
    const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: this.emu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
    let dead = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!METERING_COMMANDS.has(context.commandName ?? '')) return next(args);
        if (dead || this.client !== client) {
          dead = true;
          this.callsAfterDeath.push(context.commandName!);
          throw new Error('the process of this instance is gone');
        }
        const carried = this.carriedBy(args.input as BatchMeterUsageCommandInput | MeterUsageCommandInput);
        const hold = this.hold;
        if (hold === undefined || hold.phase === 'waiting-for-slot' || hold.seen++ !== hold.index) {
          try {
            return await next(args);
          } catch (error) {
            if (mayHaveApplied(error)) this.uncertain.push(...carried);
            throw error;
          }
        }
        if (hold.phase === 'answer-lost') await next(args).catch(() => undefined);
        hold.reached(carried);
        return never();
      },
      { step: 'initialize', name: 'harnessWireHold' },
    );
    return client;
  }

  /** The keys of the calls that failed without a definite answer since the last time they were taken. */
  takeUncertain(): CarriedKey[] {
    return this.uncertain.splice(0);
  }

  /** How many keys of calls without a definite answer the model has not taken yet. */
  get untakenUncertain(): number {
    return this.uncertain.length;
  }

  /** The keys a BatchMeterUsage or MeterUsage call carries, read from its request. */
  private carriedBy(input: BatchMeterUsageCommandInput | MeterUsageCommandInput): CarriedKey[] {
    if ('UsageDimension' in input) return [{ slot: 'product', dimension: input.UsageDimension!, hour: hourOf(input.Timestamp!.getTime()) }];
    return ((input as BatchMeterUsageCommandInput).UsageRecords ?? []).map((record) => {
      const slot = [...this.slots.values()].find((info) =>
        record.LicenseArn !== undefined
          ? info.licenseArn === record.LicenseArn
          : record.CustomerIdentifier !== undefined
            ? info.customerIdentifier === record.CustomerIdentifier
            : info.slot === 'legacy' && info.accountId === record.CustomerAWSAccountId,
      );
      if (slot === undefined) throw new Error(`a call carried a record of no customer of the run: ${JSON.stringify(record)}`);
      return { slot: slot.slot, dimension: record.Dimension!, hour: hourOf(record.Timestamp!.getTime()) };
    });
  }

  private open(): void {
    const options = this.meteringOptions();
    this.client = options.aws!.client;
    const metering = createMetering(options);
    const id = (record: StoredRecord) => record.id;
    const log = this.events;
    metering.on('sent', (e: MeteringEvents['sent']) => e.records.forEach((r) => bump(log.sent, id(r))));
    metering.on('duplicate', (e: MeteringEvents['duplicate']) => bump(log.duplicate, id(e.record)));
    metering.on('expired', (e: MeteringEvents['expired']) => bump(log.expired, id(e.record)));
    metering.on('late', (e: MeteringEvents['late']) => {
      for (const d of e.deltas) log.late.push({ customerKey: d.customerKey, dimension: d.dimension, hour: d.hour, quantity: d.quantity });
    });
    metering.on('subscription', (e: MeteringEvents['subscription']) => {
      if (e.change === 'deprovisioning' || e.change === 'ended') log.stopped.add(e.customer.key);
    });
    this.metering = metering;
    this.instances++;
  }

  /**
   * A new Metering on the same store. `crash`: the old instance is dropped without close(), as when the process
   * dies (its SQLite connection goes away, its in-memory usage is lost); otherwise it is closed first.
   */
  async restart(crash: boolean): Promise<void> {
    if (this.options.store !== 'sqlite') throw new Error('restart needs a store that outlives the instance');
    // The background work is done, so no call of this instance is under way when it stops (crashMidSend stops it
    // in the middle of one).
    await this.idle();
    if (crash) {
      await this.crash();
      return;
    }
    await this.metering.close();
    this.client?.destroy();
    this.open();
    await this.metering.listCustomers();
  }

  /**
   * Starts a flush and lets the process die while the `index`-th metering call of it is in `phase`, then opens the
   * next instance on the same store. Returns the keys the held call carried (none while it waited for its slot), or
   * undefined when the flush made fewer calls (it ran to its end; the process then died at that quiescent point).
   */
  async crashMidSend(phase: SendPhase, index: number): Promise<{ readonly carried: readonly CarriedKey[] } | undefined> {
    if (this.options.store !== 'sqlite') throw new Error('a crash needs a store that outlives the instance');
    await this.idle();
    let reached!: (carried: readonly CarriedKey[]) => void;
    const held = new Promise<readonly CarriedKey[]>((resolve) => (reached = resolve));
    this.hold = { phase, index, seen: 0, reached };
    let outcome: { readonly carried: readonly CarriedKey[] } | undefined;
    try {
      const flushing = this.metering.flush();
      flushing.catch(() => undefined);
      outcome = await Promise.race([held.then((carried) => ({ carried })), flushing.then(() => undefined)]);
    } finally {
      this.hold = undefined;
    }
    this.midSendCrashes[outcome === undefined ? 'no-call' : phase]++;
    if (outcome === undefined) await this.idle();
    await this.crash();
    return outcome;
  }

  /**
   * The process dies: the instance is dropped without close() (its store connection goes away under it, its
   * in-memory usage is lost, a held call never settles), its client can make no call again, and the next instance
   * opens on the same store.
   */
  private async crash(): Promise<void> {
    await this.metering.store.close();
    this.client?.destroy();
    this.client = undefined;
    this.open();
    await this.metering.listCustomers();
  }

  /** Waits for the work lifecycle events start in the background: final-usage flushes, contract re-reads. */
  async idle(): Promise<void> {
    await this.metering.idle();
  }

  /** A record already at AWS before meterkit sends its own: BatchMeterUsage for license and legacy buyers. */
  async seedBatch(slot: Exclude<Slot, 'product'>, dimension: string, hour: number, quantity: number, options: { byAccount?: boolean; tags?: Record<string, string> }): Promise<string> {
    const info = this.info(slot);
    const record: UsageRecord = {
      Timestamp: new Date(hour),
      Dimension: dimension,
      Quantity: quantity,
      ...(options.tags === undefined
        ? {}
        : { UsageAllocations: [{ AllocatedUsageQuantity: quantity, Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) }] }),
    };
    if (slot === 'legacy') {
      if (options.byAccount) record.CustomerAWSAccountId = info.accountId!;
      else record.CustomerIdentifier = info.customerIdentifier!;
    } else {
      record.CustomerAWSAccountId = info.accountId!;
      record.LicenseArn = info.licenseArn!;
    }
    const output = await this.seeder.send(new BatchMeterUsageCommand({ UsageRecords: [record], ...(slot === 'legacy' ? { ProductCode: H_LEGACY } : {}) }));
    return output.Results?.[0]?.Status ?? 'Unprocessed';
  }

  /** A MeterUsage report already at AWS for the product's hour, under another ClientToken. */
  async seedMeterUsage(dimension: string, hour: number, quantity: number): Promise<string> {
    try {
      await this.seeder.send(
        new MeterUsageCommand({ ProductCode: H_AMI, Timestamp: new Date(hour), UsageDimension: dimension, UsageQuantity: quantity, ClientToken: `seed-${dimension}-${hour}` }),
      );
      return 'Success';
    } catch (error) {
      return (error as Error).name;
    }
  }

  async close(): Promise<void> {
    if (this.metering !== undefined) await this.metering.close().catch(() => undefined);
    this.client?.destroy();
    this.seeder.destroy();
    await this.emu.close();
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }

  get restarts(): number {
    return this.instances - 1;
  }
}

