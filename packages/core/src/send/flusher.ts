import { BatchMeterUsageCommand, type BatchMeterUsageCommandOutput, type MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { classifyError, errorName } from '../aws/classify-error';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { mask } from '../logger';
import { dueBeforeAny, submissionDeadline, type DueRules, type WindowRules } from '../model/hours';
import { AwsLimits } from '../model/limits';
import type { Settlement, StoredRecord, TerminalState, UsageStore } from '../store/usage-store';
import { backoffDelay, type RetryPolicy } from './backoff';
import { toBatches, type Batch } from './batches';
import { emptyReport, type FlushReport } from './flush-report';
import { journaledCall, type JournaledCall } from './journaled-call';
import { LandingMarks, mayHaveApplied } from './landing-marks';
import type { Outcome } from './outcome';
import { SendStopped } from './rate-limiter';
import type { SendLimiter } from './send-quota';
import { MeterUsageSender } from '../product/meter-usage-sender';
import { toWireRecord, wireKey, type WireRecord } from './wire-record';

export interface FlusherOptions {
  readonly store: UsageStore;
  readonly client: MarketplaceMeteringClient;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Each call goes through it: this instance's limit and, with a shared quota, the store's send slots. */
  readonly limiter: SendLimiter;
  readonly owner: string;
  /** The instance AWS meters this process as, in MeterUsage's ClientToken (MeteringOptions.instanceId). */
  readonly instanceId: string;
  /** The lock and BatchMeterUsage's window. */
  readonly rules: DueRules;
  /** The submission windows of the identity modes in use (windowOf()): what is due follows each of them. */
  readonly windows: readonly WindowRules[];
  readonly mode: 'live' | 'dry-run';
  readonly retry: RetryPolicy;
  readonly leaseMs: number;
  readonly claimLimit: number;
  readonly maxBisectDepth: number;
  /** How long records wait after a configuration error (wrong product code, credentials, disabled API). */
  readonly configurationBackoffMs: number;
}

export interface FlushRequest {
  /** Send every unsettled hour of these customers now, the current one included (final-usage flush). */
  readonly forceCustomerKeys?: readonly string[];
  /**
   * Wall-clock time (ms epoch, Date.now) by which the flush must stop, e.g. a Lambda invocation's end minus a
   * margin. No new batch starts after it; claimed records not yet sent are handed back for the next flush.
   */
  readonly stopAt?: number;
  /**
   * Asked before each claim and each call: true once the flush must stop, e.g. when a Lambda invocation's
   * remaining time (`context.getRemainingTimeInMillis()`) falls under a margin. Same effect as `stopAt`.
   */
  readonly outOfTime?: () => boolean;
}

class ConfigurationStop extends Error {}

function outOfTime(request: FlushRequest): boolean {
  return (request.stopAt !== undefined && Date.now() >= request.stopAt) || request.outOfTime?.() === true;
}

const MIN_RELEASE_DELAY_MS = 1000;

/**
 * Claims due records from the store and sends them with BatchMeterUsage until none is left,
 * turning every answer into a terminal state or a later retry.
 */
export class Flusher {
  private running: Promise<FlushReport> | undefined;
  /** The running flush's time check (flushes run one at a time): a call waiting for its send slot gives up on it. */
  private stop: () => boolean = () => false;
  /** Product-level records (AMI and container products) go out one by one with MeterUsage. */
  private readonly products: MeterUsageSender;

  constructor(private readonly o: FlusherOptions) {
    this.products = new MeterUsageSender({
      ...o,
      settle: (outcomes, report) => this.settle(outcomes, report),
      release: (records, reason, delayMs, report) => this.release(records.map((stored) => ({ stored })), reason, delayMs, report),
    });
  }

  /** One flush at a time; a call during a flush runs another one after it. */
  flush(request: FlushRequest = {}): Promise<FlushReport> {
    const previous = this.running ?? Promise.resolve(emptyReport());
    const next = previous
      .catch(() => undefined)
      .then(() => this.run(request))
      .finally(() => {
        if (this.running === next) this.running = undefined;
      });
    this.running = next;
    return next;
  }

  /** Resolves when no flush is running. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
  }

  private async run(request: FlushRequest): Promise<FlushReport> {
    const report = emptyReport();
    this.stop = () => outOfTime(request);
    try {
      for (;;) {
        if (outOfTime(request)) break;
        const now = this.o.clock();
        const claimed = await this.o.store.claim({
          now,
          dueBefore: dueBeforeAny(now, this.o.rules, this.o.windows),
          ...(request.forceCustomerKeys === undefined ? {} : { forceCustomerKeys: request.forceCustomerKeys }),
          owner: this.o.owner,
          leaseMs: this.o.leaseMs,
          limit: this.o.claimLimit,
        });
        if (claimed.length === 0) break;
        report.claimed += claimed.length;
        await this.process(claimed, report, request);
      }
    } catch (error) {
      if (!(error instanceof ConfigurationStop)) throw error;
    }
    return report;
  }

  /** Returns false when some records had to be handed back. */
  private async process(claimed: readonly StoredRecord[], report: FlushReport, request: FlushRequest): Promise<boolean> {
    const productRecords = claimed.filter((r) => r.customer.kind === 'product');
    const productsHealthy = productRecords.length === 0 || (await this.products.send(productRecords, report, () => outOfTime(request)));
    return (await this.processBatchable(claimed.filter((r) => r.customer.kind !== 'product'), report, request)) && productsHealthy;
  }

  private async processBatchable(claimed: readonly StoredRecord[], report: FlushReport, request: FlushRequest): Promise<boolean> {
    if (claimed.length === 0) return true;
    const now = this.o.clock();
    const wires: WireRecord[] = [];
    const terminal: Array<{ record: StoredRecord; state: TerminalState; reason: string }> = [];
    for (const record of claimed) {
      const deadline = submissionDeadline(record.hour, this.o.rules);
      if (now >= deadline) {
        terminal.push({ record, state: 'expired', reason: 'SubmissionWindowPassed' });
      } else if ((record.frozen?.quantity ?? record.quantity) > AwsLimits.maxQuantity) {
        terminal.push({ record, state: 'rejected', reason: 'QuantityOverflow' });
      } else {
        const wire = toWireRecord(record);
        if (wire.allocationsDropped) {
          this.o.logger.warn({ dimension: record.dimension, hour: new Date(record.hour).toISOString() }, 'allocations AWS would refuse were dropped; the record is sent untagged');
        }
        wires.push(wire);
      }
    }
    await this.settle(terminal, report);
    if (this.o.mode === 'dry-run') {
      await this.settle(wires.map((w) => ({ record: w.stored, state: 'dry-run' as const, reason: 'DryRun' })), report);
      return true;
    }
    let healthy = true;
    const marks = new LandingMarks(this.o.store, this.o.owner, claimed);
    const batches = toBatches(wires);
    for (let i = 0; i < batches.length; i++) {
      if (outOfTime(request)) {
        await this.release(batches.slice(i).flatMap((b) => b.records), 'FlushTimeBudget', 0, report);
        return false;
      }
      try {
        healthy = (await this.sendBatch(batches[i]!, 0, report, marks)) && healthy;
      } catch (error) {
        if (error instanceof ConfigurationStop) {
          const rest = batches.slice(i + 1).flatMap((b) => b.records);
          await this.release(rest, 'ConfigurationError', this.o.configurationBackoffMs, report);
        }
        throw error;
      }
    }
    return healthy;
  }

  private async sendBatch(batch: Batch, depth: number, report: FlushReport, marks: LandingMarks): Promise<boolean> {
    let pending = batch.records;
    let failures = 0;
    let unprocessedRounds = 0;
    while (pending.length > 0) {
      const offered = pending;
      let call: JournaledCall<BatchMeterUsageCommandOutput>;
      try {
        call = await journaledCall(this.o, offered.map((w) => w.stored.id), (journaled) => {
          report.calls++;
          return this.o.client.send(
            new BatchMeterUsageCommand({
              UsageRecords: offered.filter((w) => journaled.has(w.stored.id)).map((w) => w.record),
              ...(batch.identity === 'legacy' ? { ProductCode: batch.productCode } : {}),
            }),
          );
        }, this.stop);
      } catch (error) {
        if (!(error instanceof SendStopped)) throw error;
        // Not sent: the flush ran out of time while the call waited for its slot.
        await this.release(offered, 'FlushTimeBudget', 0, report);
        return false;
      }
      // Records the store did not journal (their lease ran out) are no longer ours to send.
      if (call.kind === 'nothing-journaled') return true;
      const journaled = call.journaled;
      pending = offered.filter((w) => journaled.has(w.stored.id));
      if (call.kind === 'failed') {
        const error = call.error;
        const name = errorName(error);
        const kind = classifyError(error);
        const ids = pending.map((w) => w.stored.id);
        if (mayHaveApplied(error)) marks.ambiguous(ids);
        else await marks.refused(ids);
        if (kind === 'retry') {
          failures++;
          if (failures < this.o.retry.attempts) {
            await this.o.sleep(backoffDelay(this.o.retry, failures));
            continue;
          }
          this.reportError(ErrorCodes.AWS, `BatchMeterUsage kept failing (${name}); ${pending.length} records will be retried by a later flush.`, name, error);
          await this.release(pending, name, backoffDelay(this.o.retry, failures + 2), report);
          return false;
        }
        if (kind === 'configuration') {
          this.reportError(
            ErrorCodes.AWS_CONFIGURATION,
            `BatchMeterUsage refused the call with ${name}: check the product code, region and credentials. Sending pauses; no usage is dropped.`,
            name,
            error,
          );
          await this.release(pending, name, this.o.configurationBackoffMs, report);
          throw new ConfigurationStop(name);
        }
        if (pending.length === 1) {
          const state: TerminalState = name === 'TimestampOutOfBoundsException' ? 'expired' : 'rejected';
          await this.settle([{ record: pending[0]!.stored, state, reason: name }], report);
          return true;
        }
        if (depth >= this.o.maxBisectDepth) {
          this.reportError(ErrorCodes.AWS, `A batch still failed with ${name} after ${depth} splits; its records are retried later.`, name, error);
          await this.release(pending, 'BisectDepthExceeded', this.o.configurationBackoffMs, report);
          return false;
        }
        const middle = Math.ceil(pending.length / 2);
        const left = await this.sendBatch({ ...batch, records: pending.slice(0, middle) }, depth + 1, report, marks);
        const right = await this.sendBatch({ ...batch, records: pending.slice(middle) }, depth + 1, report, marks);
        return left && right;
      }

      const output = call.output;
      const unanswered = new Map(pending.map((w) => [wireKey(w.record), w]));
      const outcomes: Outcome[] = [];
      /** Records this call definitely did not apply: refused per record, or handed back unprocessed. */
      const notApplied: string[] = [];
      for (const result of output.Results ?? []) {
        if (result.UsageRecord === undefined) continue;
        const key = wireKey(result.UsageRecord);
        const wire = unanswered.get(key);
        if (wire === undefined) continue;
        unanswered.delete(key);
        const record = wire.stored;
        const meteringRecordId = result.MeteringRecordId === undefined ? {} : { meteringRecordId: result.MeteringRecordId };
        if (result.Status === 'Success') {
          outcomes.push({ record, state: 'sent', ...meteringRecordId });
        } else if (result.Status === 'CustomerNotSubscribed') {
          notApplied.push(record.id);
          outcomes.push({ record, state: 'not-subscribed', reason: 'CustomerNotSubscribed' });
        } else if (result.Status === 'DuplicateRecord' && marks.mayHaveLanded(record.id)) {
          // An earlier call of this identical frozen record may have landed: AWS holds it once.
          outcomes.push({ record, state: 'sent', reason: 'DuplicateRecordOfIdenticalResend', ...meteringRecordId });
        } else if (result.Status === 'DuplicateRecord') {
          // No call of ours can have landed before: AWS holds another quantity, and this one is not billed.
          notApplied.push(record.id);
          outcomes.push({ record, state: 'duplicate', reason: 'DuplicateRecord' });
        } else {
          unanswered.set(key, wire);
        }
      }
      const unprocessed = new Set((output.UnprocessedRecords ?? []).map(wireKey));
      for (const [key, wire] of unanswered) {
        if (unprocessed.has(key)) notApplied.push(wire.stored.id);
        else marks.ambiguous([wire.stored.id]);
      }
      await marks.refused(notApplied);
      await this.settle(outcomes, report);

      pending = [...unanswered.values()];
      if (pending.length === 0) return true;
      this.o.events.emit('unprocessed', { records: pending.map((w) => w.stored) });
      unprocessedRounds++;
      if (unprocessedRounds >= this.o.retry.attempts) {
        await this.release(pending, 'UnprocessedRecords', backoffDelay(this.o.retry, unprocessedRounds), report);
        return false;
      }
      await this.o.sleep(backoffDelay(this.o.retry, unprocessedRounds));
    }
    return true;
  }

  private async settle(outcomes: readonly Outcome[], report: FlushReport): Promise<void> {
    if (outcomes.length === 0) return;
    const now = this.o.clock();
    const settlements: Settlement[] = outcomes.map((o) => ({
      id: o.record.id,
      state: o.state,
      ...(o.reason === undefined ? {} : { reason: o.reason }),
      ...(o.meteringRecordId === undefined ? {} : { meteringRecordId: o.meteringRecordId }),
    }));
    await this.o.store.settle(settlements, this.o.owner, now);
    const sent: StoredRecord[] = [];
    const dryRun: StoredRecord[] = [];
    for (const o of outcomes) {
      const record: StoredRecord = {
        ...o.record,
        state: o.state,
        settledAt: now,
        ...(o.reason === undefined ? {} : { reason: o.reason }),
        ...(o.meteringRecordId === undefined ? {} : { meteringRecordId: o.meteringRecordId }),
      };
      switch (o.state) {
        case 'sent':
          report.sent++;
          sent.push(record);
          break;
        case 'dry-run':
          report.dryRun++;
          dryRun.push(record);
          break;
        case 'not-subscribed':
          report.notSubscribed++;
          this.o.events.emit('notSubscribed', { record });
          break;
        case 'duplicate':
          report.duplicate++;
          this.o.logger.error(
            { customer: mask(record.customerKey), dimension: record.dimension, hour: new Date(record.hour).toISOString() },
            'AWS already holds a different quantity for this record: this usage was not billed',
          );
          this.o.events.emit('duplicate', { record });
          break;
        case 'expired':
          report.expired++;
          this.o.logger.error(
            { customer: mask(record.customerKey), dimension: record.dimension, hour: new Date(record.hour).toISOString(), quantity: record.frozen?.quantity },
            'usage can no longer make AWS\'s submission window',
          );
          this.o.events.emit('expired', { record, deadline: o.deadline ?? submissionDeadline(record.hour, this.o.rules) });
          break;
        case 'rejected':
          report.rejected++;
          this.o.logger.error({ customer: mask(record.customerKey), dimension: record.dimension, reason: o.reason }, 'AWS rejected a record');
          this.o.events.emit('rejected', { record, reason: o.reason ?? 'Rejected' });
          break;
      }
    }
    for (const [productCode, records] of groupByProduct(sent)) this.o.events.emit('sent', { records, productCode });
    for (const [productCode, records] of groupByProduct(dryRun)) this.o.events.emit('dryRun', { records, productCode });
  }

  private async release(wires: ReadonlyArray<{ readonly stored: StoredRecord }>, reason: string, delayMs: number, report: FlushReport): Promise<void> {
    if (wires.length === 0) return;
    const nextAttemptAt = this.o.clock() + Math.max(MIN_RELEASE_DELAY_MS, delayMs);
    await this.o.store.release(wires.map((w) => ({ id: w.stored.id, nextAttemptAt, reason })), this.o.owner);
    report.released += wires.length;
  }

  private reportError(code: typeof ErrorCodes.AWS | typeof ErrorCodes.AWS_CONFIGURATION, message: string, awsException: string, cause: unknown): void {
    const error = new MeterkitError(code, message, { awsException, cause });
    this.o.logger.error({ code, awsException }, message);
    this.o.events.emit('error', { error });
  }
}

function groupByProduct(records: readonly StoredRecord[]): Map<string, StoredRecord[]> {
  const groups = new Map<string, StoredRecord[]>();
  for (const record of records) {
    const group = groups.get(record.productCode);
    if (group === undefined) groups.set(record.productCode, [record]);
    else group.push(record);
  }
  return groups;
}
