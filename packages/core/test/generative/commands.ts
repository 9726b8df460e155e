import type fc from 'fast-check';
import { isMeterkitError, parseEventBridgeEvent, parseLegacyNotification, type LifecycleEvent, type RequestMeter } from '../../src';
import { H_LEGACY, H_LICENSED, type EngineHarness, type SendPhase, type Slot } from '../support/engine-harness';
import { checkAfterCommand } from './invariants';
import { Model } from './model';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** How often the app's flush timer fires while it "runs" (appRuns and the final drain). */
export const TICK_MS = 20 * MINUTE;

type Cmd = fc.AsyncCommand<Model, EngineHarness>;

/** A record(dimension, quantity, tags?) or a discard() on a request meter. */
export type MeterStep = readonly [dimension: string, quantity: number, tag?: string] | readonly ['discard'];

export type FaultSpec =
  | { readonly kind: 'ThrottlingException' | 'InternalServiceErrorException' | 'reset' | 'lost-answer' | 'lost-answer-reset'; readonly op: string; readonly count: number }
  | { readonly kind: 'unprocessed'; readonly rate: number };

export type ClockMove =
  | { readonly kind: 'minutes'; readonly minutes: number }
  | { readonly kind: 'nextHour'; readonly minutes: number }
  | { readonly kind: 'appRuns'; readonly hours: number }
  | { readonly kind: 'downtime'; readonly hours: number }
  /** To the month-end edge: minutes after 00:00 UTC on the next 1st (e.g. 355 = 05:55). */
  | { readonly kind: 'monthEnd'; readonly minutes: number };

export type LifecycleKind = 'License Updated' | 'License Deprovisioned' | 'subscribe-success' | 'unsubscribe-pending' | 'unsubscribe-success';

function show(name: string, ...args: unknown[]): string {
  return `C.${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
}

async function flushNow(r: EngineHarness, m: Model, faults: readonly FaultSpec[]): Promise<void> {
  for (const fault of faults) {
    if (fault.kind === 'unprocessed') r.emu.faults.set({ unprocessedRate: fault.rate });
    else r.emu.faults.failNext(fault.op, fault.kind, fault.count);
  }
  try {
    await r.metering.flush();
    await r.idle();
  } finally {
    r.emu.faults.reset();
  }
  m.flushed(faults.length > 0, r.takeUncertain());
}

/** Moves both clocks (the engine reads the emulator's). */
function moveTo(r: EngineHarness, m: Model, to: number): void {
  r.emu.clock.set(to);
  m.now = to;
}

export async function appRuns(r: EngineHarness, m: Model, until: number): Promise<void> {
  while (m.now + TICK_MS <= until) {
    moveTo(r, m, m.now + TICK_MS);
    await flushNow(r, m, []);
  }
  if (m.now < until) moveTo(r, m, until);
}

function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

class CommitCommand implements Cmd {
  constructor(
    readonly slot: Slot,
    readonly steps: readonly MeterStep[],
    readonly discardAll: boolean,
    /** meter(identity) instead of meterFor(identity): no registry check, as for a customer the app already knows. */
    readonly viaMeter: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    const info = r.info(this.slot);
    let meter: RequestMeter;
    try {
      meter = this.slot === 'product' ? r.metering.productMeter() : this.viaMeter ? r.metering.meter(info.identity) : await r.metering.meterFor(info.identity);
    } catch (error) {
      if (isMeterkitError(error) && error.code === 'ERR_METERKIT_CUSTOMER_INACTIVE' && r.events.stopped.has(info.key)) {
        m.stopped.add(this.slot);
        return;
      }
      throw error;
    }
    let kept: Array<{ dimension: string; quantity: number }> = [];
    for (const step of this.steps) {
      if (step[0] === 'discard') {
        meter.discard();
        kept = [];
      } else {
        const [dimension, quantity, tag] = step as readonly [string, number, string?];
        meter.record(dimension, quantity, tag === undefined ? undefined : { tags: { team: tag } });
        kept.push({ dimension, quantity });
      }
    }
    if (this.discardAll) {
      meter.discard();
      kept = [];
    }
    await meter.commit();
    m.commit(this.slot, kept);
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return this.viaMeter ? show('commit', this.slot, this.steps, this.discardAll, true) : show('commit', this.slot, this.steps, this.discardAll);
  }
}

class PersistCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    await r.metering.persist();
    m.persisted();
  }
  toString(): string {
    return show('persist');
  }
}

class FlushCommand implements Cmd {
  constructor(readonly faults: readonly FaultSpec[]) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    await flushNow(r, m, this.faults);
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return show('flush', this.faults);
  }
}

class ClockCommand implements Cmd {
  constructor(readonly move: ClockMove) {}
  check(m: Readonly<Model>): boolean {
    return this.move.kind !== 'monthEnd' || nextMonthStart(m.now) + this.move.minutes * MINUTE > m.now;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    const move = this.move;
    switch (move.kind) {
      case 'minutes':
        moveTo(r, m, m.now + move.minutes * MINUTE);
        break;
      case 'nextHour':
        moveTo(r, m, Math.floor(m.now / HOUR) * HOUR + HOUR + move.minutes * MINUTE);
        break;
      case 'downtime':
        moveTo(r, m, m.now + move.hours * HOUR);
        break;
      case 'appRuns':
        await appRuns(r, m, m.now + move.hours * HOUR);
        break;
      case 'monthEnd':
        moveTo(r, m, nextMonthStart(m.now) + move.minutes * MINUTE);
        break;
    }
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return show('clock', this.move);
  }
}

class RestartCommand implements Cmd {
  constructor(readonly crash: boolean) {}
  check(m: Readonly<Model>): boolean {
    return m.options.crashes;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    await r.restart(this.crash);
    if (this.crash) m.crashed();
    else m.persisted();
  }
  toString(): string {
    return show('restart', this.crash);
  }
}

/**
 * The process dies while the `index`-th call of a flush is in `phase` (waiting for its send slot, on the wire before
 * AWS applied it, or applied with the answer lost), then the next instance starts on the same store. A flush that
 * makes fewer calls runs to its end, and the process dies after it. `due`: the clock first moves to when every key
 * of the earliest hour not yet due is due, so the flush has calls to make.
 */
class CrashMidSendCommand implements Cmd {
  constructor(
    readonly phase: SendPhase,
    readonly index: number,
    readonly due: boolean,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.options.crashes;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    if (this.due) {
      const later = [...m.keys.values()].filter((key) => m.readyAt(key) > m.now);
      const hour = Math.min(...later.map((key) => key.hour));
      const at = Math.max(m.now, ...later.filter((key) => key.hour === hour).map((key) => m.readyAt(key)));
      if (at > m.now) moveTo(r, m, at);
    }
    const held = await r.crashMidSend(this.phase, this.index);
    if (held === undefined) {
      m.flushed(false, r.takeUncertain());
      m.crashed();
    } else {
      m.mayHaveLanded(r.takeUncertain());
      m.crashedMidSend(held.carried);
    }
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return show('crashMidSend', this.phase, this.index, this.due);
  }
}

/**
 * AWS already holds a record for a key, sent by someone else (another deployment, a migration): for the current
 * hour, or an earlier one meterkit may not have sent yet. If meterkit sent it first, AWS refuses the seed and
 * nothing is seeded.
 */
class SeedCommand implements Cmd {
  constructor(
    readonly slot: Slot,
    readonly dimension: string,
    /** Seeded quantity = what the key promised so far + delta (0: the same quantity; never negative). */
    readonly delta: number,
    readonly byAccount: boolean,
    readonly tag: string | undefined,
    readonly hoursAgo: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    const key = m.keys.get(Model.id(this.slot, this.dimension, m.currentHour() - this.hoursAgo * HOUR));
    return key?.seeded === undefined && !m.stopped.has(this.slot);
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    if (r.events.stopped.has(r.info(this.slot).key)) return;
    const hour = m.currentHour() - this.hoursAgo * HOUR;
    const promised = m.keys.get(Model.id(this.slot, this.dimension, hour))?.promised ?? 0;
    const quantity = promised + this.delta >= 0 ? promised + this.delta : promised - this.delta;
    const byAccount = this.slot === 'legacy' && this.byAccount;
    const status =
      this.slot === 'product'
        ? await r.seedMeterUsage(this.dimension, hour, quantity)
        : await r.seedBatch(this.slot, this.dimension, hour, quantity, { byAccount, ...(this.tag === undefined ? {} : { tags: { team: this.tag } }) });
    if (status === 'Success') m.key(this.slot, this.dimension, hour).seeded = { quantity, byAccount, tagged: this.tag !== undefined };
    else if (this.hoursAgo === 0) throw new Error(`seeding a prior record for the current hour was answered ${status}`);
    else m.refusedSeeds.push({ slot: this.slot, dimension: this.dimension, hour, byAccount });
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return show('seed', this.slot, this.dimension, this.delta, this.byAccount, this.tag ?? null, this.hoursAgo);
  }
}

function lifecycleEvent(r: EngineHarness, slot: Slot, kind: LifecycleKind, at: number, id: string): LifecycleEvent {
  const info = r.info(slot);
  if (slot === 'legacy') {
    const action = kind === 'License Updated' ? 'subscribe-success' : kind === 'License Deprovisioned' ? 'unsubscribe-pending' : kind;
    return parseLegacyNotification(id, at, JSON.stringify({ action, 'customer-identifier': info.customerIdentifier, 'product-code': H_LEGACY }));
  }
  return parseEventBridgeEvent({
    version: '0',
    id,
    'detail-type': kind.startsWith('License') ? kind : kind === 'subscribe-success' ? 'License Updated' : 'License Deprovisioned',
    source: 'aws.agreement-marketplace',
    account: '111111111111',
    time: new Date(at).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      license: { arn: info.licenseArn },
      product: { code: H_LICENSED },
      acceptor: { accountId: info.accountId },
    },
  });
}

async function deliver(r: EngineHarness, m: Model, event: LifecycleEvent, slot: Slot): Promise<void> {
  await r.metering.applyLifecycleEvent(event);
  await r.idle();
  // A final-usage flush may have persisted in the background; persisting now keeps the model exact.
  await r.metering.persist();
  m.persisted();
  m.mayHaveLanded(r.takeUncertain());
  if (r.events.stopped.has(r.info(slot).key)) m.stopped.add(slot);
}

/** A lifecycle event (EventBridge for licenses, SNS for the legacy buyer), event time in the past, maybe twice. */
class LifecycleCommand implements Cmd {
  constructor(
    readonly slot: Exclude<Slot, 'product'>,
    readonly kind: LifecycleKind,
    readonly minutesAgo: number,
    readonly twice: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    const at = m.now - this.minutesAgo * MINUTE;
    const id = `evt-${m.deliveries.length}`;
    m.deliveries.push({ slot: this.slot, kind: this.kind, at, id });
    const event = lifecycleEvent(r, this.slot, this.kind, at, id);
    await deliver(r, m, event, this.slot);
    if (this.twice) await deliver(r, m, event, this.slot);
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return show('lifecycle', this.slot, this.kind, this.minutesAgo, this.twice);
  }
}

/** An earlier lifecycle event delivered again, now (out of order). */
class RedeliverCommand implements Cmd {
  constructor(readonly index: number) {}
  check(m: Readonly<Model>): boolean {
    return m.deliveries.length > 0;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    const d = m.deliveries[this.index % m.deliveries.length]!;
    await deliver(r, m, lifecycleEvent(r, d.slot, d.kind as LifecycleKind, d.at, d.id), d.slot);
    await checkAfterCommand(m, r);
  }
  toString(): string {
    return show('redeliver', this.index);
  }
}

/** A finalized total for a closed hour (a dimension request meters never use). */
class SetTotalCommand implements Cmd {
  constructor(
    readonly slot: Exclude<Slot, 'product'>,
    readonly dimension: string,
    readonly hoursAgo: number,
    readonly quantity: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: EngineHarness): Promise<void> {
    const hour = m.currentHour() - this.hoursAgo * HOUR;
    const existing = m.keys.get(Model.id(this.slot, this.dimension, hour));
    let code: string | undefined;
    try {
      await r.metering.setTotal({ customer: r.info(this.slot).identity, dimension: this.dimension, hour, quantity: this.quantity });
    } catch (error) {
      if (!isMeterkitError(error)) throw error;
      code = error.code;
    }
    const expected =
      m.now >= Model.deadline({ slot: this.slot, hour })
        ? 'ERR_METERKIT_TIMESTAMP'
        : existing?.total === true && existing.promised !== this.quantity
          ? 'ERR_METERKIT_TOTAL_CONFLICT'
          : undefined;
    if (code !== expected) throw new Error(`setTotal(${this.quantity}) for ${new Date(hour).toISOString()} answered ${code ?? 'ok'}, expected ${expected ?? 'ok'}`);
    if (code === undefined && existing?.total !== true) {
      const key = m.key(this.slot, this.dimension, hour);
      key.promised = this.quantity;
      key.total = true;
    }
  }
  toString(): string {
    return show('setTotal', this.slot, this.dimension, this.hoursAgo, this.quantity);
  }
}

/** Constructors used by the arbitraries and, verbatim, by the regression tests (toString prints these calls). */
export const C = {
  commit: (slot: Slot, steps: readonly MeterStep[], discardAll = false, viaMeter = false): Cmd => new CommitCommand(slot, steps, discardAll, viaMeter),
  persist: (): Cmd => new PersistCommand(),
  flush: (faults: readonly FaultSpec[] = []): Cmd => new FlushCommand(faults),
  clock: (move: ClockMove): Cmd => new ClockCommand(move),
  restart: (crash: boolean): Cmd => new RestartCommand(crash),
  crashMidSend: (phase: SendPhase, index = 0, due = false): Cmd => new CrashMidSendCommand(phase, index, due),
  seed: (slot: Slot, dimension: string, delta: number, byAccount = false, tag: string | null = null, hoursAgo = 0): Cmd =>
    new SeedCommand(slot, dimension, delta, byAccount, tag ?? undefined, hoursAgo),
  lifecycle: (slot: Exclude<Slot, 'product'>, kind: LifecycleKind, minutesAgo: number, twice = false): Cmd => new LifecycleCommand(slot, kind, minutesAgo, twice),
  redeliver: (index: number): Cmd => new RedeliverCommand(index),
  setTotal: (slot: Exclude<Slot, 'product'>, dimension: string, hoursAgo: number, quantity: number): Cmd => new SetTotalCommand(slot, dimension, hoursAgo, quantity),
};
