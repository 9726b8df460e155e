import { MeterUsageCommand, type MarketplaceMeteringClient, type MeterUsageCommandInput, type MeterUsageCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { classifyError, errorName } from '../aws/classify-error';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { submissionDeadline } from '../model/hours';
import { AwsLimits } from '../model/limits';
import { backoffDelay, type RetryPolicy } from '../send/backoff';
import type { FlushReport } from '../send/flush-report';
import { journaledCall, type JournaledCall } from '../send/journaled-call';
import { LandingMarks, mayHaveApplied } from '../send/landing-marks';
import type { Outcome, Release, Settle } from '../send/outcome';
import { SendStopped } from '../send/rate-limiter';
import type { SendLimiter } from '../send/send-quota';
import { toWireRecord } from '../send/wire-record';
import type { StoredRecord, UsageStore } from '../store/usage-store';
import { clientTokenFor } from './client-token';
import { METER_USAGE_WINDOW } from './meter-usage-window';

export interface MeterUsageSenderOptions {
  readonly store: UsageStore;
  readonly client: MarketplaceMeteringClient;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly limiter: SendLimiter;
  readonly owner: string;
  /** The instance AWS meters this process as (MeteringOptions.instanceId): part of every ClientToken. */
  readonly instanceId: string;
  readonly mode: 'live' | 'dry-run';
  readonly retry: RetryPolicy;
  readonly configurationBackoffMs: number;
  /** The flusher's settlement: stores the outcome, counts it and emits its event. */
  readonly settle: Settle;
  /** Hands records back for a later flush. */
  readonly release: Release;
}

/** MeterUsage answers that settle a record for good, by AWS exception name. */
const TERMINAL: Readonly<Record<string, Outcome['state']>> = {
  TimestampOutOfBoundsException: 'expired',
  CustomerNotEntitledException: 'not-subscribed',
  InvalidUsageDimensionException: 'rejected',
  InvalidTagException: 'rejected',
  InvalidUsageAllocationsException: 'rejected',
  IdempotencyConflictException: 'rejected',
};

type SendResult = 'settled' | 'released' | 'configuration';

/**
 * Sends product-level records (AMI and container products) with MeterUsage: one call per record, i.e. per
 * dimension and hour, with a ClientToken derived from the frozen record so a resend is recognised by AWS.
 */
export class MeterUsageSender {
  constructor(private readonly o: MeterUsageSenderOptions) {}

  /** Returns false when some records had to be handed back. */
  async send(records: readonly StoredRecord[], report: FlushReport, outOfTime: () => boolean): Promise<boolean> {
    const now = this.o.clock();
    const terminal: Outcome[] = [];
    const sendable: StoredRecord[] = [];
    for (const record of records) {
      const deadline = submissionDeadline(record.hour, METER_USAGE_WINDOW);
      if (now >= deadline) terminal.push({ record, state: 'expired', reason: 'SubmissionWindowPassed', deadline });
      else if ((record.frozen?.quantity ?? record.quantity) > AwsLimits.maxQuantity) terminal.push({ record, state: 'rejected', reason: 'QuantityOverflow' });
      else sendable.push(record);
    }
    await this.o.settle(terminal, report);
    if (this.o.mode === 'dry-run') {
      await this.o.settle(sendable.map((record) => ({ record, state: 'dry-run' as const, reason: 'DryRun' })), report);
      return true;
    }
    let healthy = true;
    const marks = new LandingMarks(this.o.store, this.o.owner, sendable);
    for (let i = 0; i < sendable.length; i++) {
      if (outOfTime()) {
        await this.o.release(sendable.slice(i), 'FlushTimeBudget', 0, report);
        return false;
      }
      const result = await this.sendOne(sendable[i]!, report, marks, outOfTime);
      if (result === 'configuration') {
        await this.o.release(sendable.slice(i + 1), 'ConfigurationError', this.o.configurationBackoffMs, report);
        return false;
      }
      healthy = result === 'settled' && healthy;
    }
    return healthy;
  }

  private async sendOne(record: StoredRecord, report: FlushReport, marks: LandingMarks, outOfTime: () => boolean): Promise<SendResult> {
    const input = toMeterUsageInput(record, this.o.instanceId);
    let failures = 0;
    for (;;) {
      let call: JournaledCall<MeterUsageCommandOutput>;
      try {
        call = await journaledCall(this.o, [record.id], () => {
          report.calls++;
          return this.o.client.send(new MeterUsageCommand(input));
        }, outOfTime);
      } catch (error) {
        if (!(error instanceof SendStopped)) throw error;
        // Not sent: the flush ran out of time while the call waited for its slot.
        await this.o.release([record], 'FlushTimeBudget', 0, report);
        return 'released';
      }
      // The lease ran out while the call waited for its slot: the record is no longer ours to send.
      if (call.kind === 'nothing-journaled') return 'released';
      if (call.kind === 'answered') {
        const output = call.output;
        await this.o.settle([{ record, state: 'sent', ...(output.MeteringRecordId === undefined ? {} : { meteringRecordId: output.MeteringRecordId }) }], report);
        return 'settled';
      }
      const error = call.error;
      const name = errorName(error);
      if (mayHaveApplied(error)) marks.ambiguous([record.id]);
      else await marks.refused([record.id]);
      if (name === 'DuplicateRequestException') {
        // AWS answers an identical resend (same ClientToken, same frozen input) with the first MeteringRecordId,
        // never with this exception: AWS holds another quantity for the hour, and this one is not billed.
        await this.o.settle([{ record, state: 'duplicate', reason: name }], report);
        return 'settled';
      }
      const state = TERMINAL[name];
      if (state !== undefined) {
        if (name === 'IdempotencyConflictException') {
          this.reportError(ErrorCodes.AWS, 'MeterUsage answered IdempotencyConflictException: AWS holds this ClientToken with other parameters.', name, error);
        }
        await this.o.settle([{ record, state, reason: name }], report);
        return 'settled';
      }
      const kind = classifyError(error);
      if (kind === 'configuration') {
        this.reportError(
          ErrorCodes.AWS_CONFIGURATION,
          `MeterUsage refused the call with ${name}: check the product code, the region (that of the instance or task) and the role. Sending pauses; no usage is dropped.`,
          name,
          error,
        );
        await this.o.release([record], name, this.o.configurationBackoffMs, report);
        return 'configuration';
      }
      if (kind === 'isolate') {
        await this.o.settle([{ record, state: 'rejected', reason: name }], report);
        return 'settled';
      }
      failures++;
      if (failures < this.o.retry.attempts) {
        await this.o.sleep(backoffDelay(this.o.retry, failures));
        continue;
      }
      this.reportError(ErrorCodes.AWS, `MeterUsage kept failing (${name}); the record is retried by a later flush.`, name, error);
      await this.o.release([record], name, backoffDelay(this.o.retry, failures + 2), report);
      return 'released';
    }
  }

  private reportError(code: typeof ErrorCodes.AWS | typeof ErrorCodes.AWS_CONFIGURATION, message: string, awsException: string, cause: unknown): void {
    const error = new MeterkitError(code, message, { awsException, cause });
    this.o.logger.error({ code, awsException }, message);
    this.o.events.emit('error', { error });
  }
}

/** The MeterUsage request for a frozen product record sent by `instanceId`: identical on every resend. */
export function toMeterUsageInput(record: StoredRecord, instanceId: string): MeterUsageCommandInput {
  const wire = toWireRecord(record).record;
  const input: Omit<MeterUsageCommandInput, 'ClientToken'> = {
    ProductCode: record.productCode,
    Timestamp: new Date(record.hour),
    UsageDimension: record.dimension,
    UsageQuantity: wire.Quantity ?? 0,
    ...(wire.UsageAllocations === undefined ? {} : { UsageAllocations: wire.UsageAllocations }),
  };
  return { ...input, ClientToken: clientTokenFor(input, instanceId) };
}
