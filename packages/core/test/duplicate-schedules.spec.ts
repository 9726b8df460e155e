import type { BatchMeterUsageCommand, MarketplaceMeteringClient, UsageRecord } from '@aws-sdk/client-marketplace-metering';
import fc from 'fast-check';
import { MeteringEmitter } from '../src/events';
import { silentLogger } from '../src/logger';
import { BATCH_METER_USAGE_WINDOW } from '../src/model/hours';
import { Flusher } from '../src/send/flusher';
import { MemoryStore } from '../src/store/memory-store';
import { delta, hour, idOf } from '../src/store/conformance/fixtures';
import type { StoredRecord } from '../src/store/usage-store';

/**
 * What AWS does with one BatchMeterUsage call before the final answer:
 * - definite, nothing applied: `throttle` (ThrottlingException), `refused` (a 4xx for the whole call),
 *   `unprocessed` (the record comes back in UnprocessedRecords);
 * - ambiguous, no answer: `fault` (a 5xx, nothing applied), `reset` (connection reset, nothing applied),
 *   `lost` (AWS applied the record, then the answer was lost).
 */
type Step = 'throttle' | 'refused' | 'unprocessed' | 'fault' | 'reset' | 'lost';
const DEFINITE: readonly Step[] = ['throttle', 'refused', 'unprocessed'];
const AMBIGUOUS: readonly Step[] = ['fault', 'reset', 'lost'];

const OURS = 5;
const AWS_RECORD_ID = 'mr-at-aws';

function awsError(name: string, status: number, fault: 'client' | 'server'): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

/**
 * AWS for one record, following a schedule of faults and then answering for real. It answers every record it
 * already holds with DuplicateRecord and the first MeteringRecordId, as AWS's reference pipeline says it does
 * for an identical resend too (reference §5: meterkit must accept either answer for its own resend).
 */
class ScriptedAws {
  held: number | undefined;
  private readonly steps: Step[];

  constructor(steps: readonly Step[], held: number | undefined) {
    this.steps = [...steps];
    this.held = held;
  }

  readonly client = {
    send: async (command: BatchMeterUsageCommand) => {
      const records = command.input.UsageRecords ?? [];
      const step = this.steps.shift();
      switch (step) {
        case 'throttle':
          throw awsError('ThrottlingException', 400, 'client');
        case 'refused':
          throw awsError('AccessDeniedException', 400, 'client');
        case 'unprocessed':
          return { Results: [], UnprocessedRecords: records };
        case 'fault':
          throw awsError('InternalServiceErrorException', 500, 'server');
        case 'reset':
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        case 'lost':
          this.apply(records);
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        case undefined:
          return { Results: this.apply(records), UnprocessedRecords: [] };
      }
    },
  } as unknown as MarketplaceMeteringClient;

  private apply(records: readonly UsageRecord[]) {
    return records.map((record) => {
      if (this.held !== undefined) return { UsageRecord: record, Status: 'DuplicateRecord', MeteringRecordId: AWS_RECORD_ID };
      this.held = record.Quantity;
      return { UsageRecord: record, Status: 'Success', MeteringRecordId: AWS_RECORD_ID };
    });
  }
}

interface Ending {
  record: StoredRecord;
  duplicateEvents: number;
  sentEvents: number;
}

/** Flushes until the record settles; `restarts[i]` starts a new process (a new Flusher, another owner) before flush i. */
async function runSchedule(steps: readonly Step[], held: number | undefined, restarts: readonly boolean[] = []): Promise<Ending> {
  const store = new MemoryStore();
  const aws = new ScriptedAws(steps, held);
  const events = new MeteringEmitter();
  const ending = { duplicateEvents: 0, sentEvents: 0 };
  events.on('duplicate', () => ending.duplicateEvents++);
  events.on('sent', (e) => (ending.sentEvents += e.records.length));
  let now = hour(2);
  let process = 0;
  const start = () =>
    new Flusher({
      store,
      client: aws.client,
      events,
      logger: silentLogger,
      clock: () => now,
      sleep: async () => undefined,
      limiter: { run: <T>(call: () => Promise<T>) => call() },
      owner: `process-${process++}`,
      instanceId: 'i-0abc',
      rules: { ...BATCH_METER_USAGE_WINDOW, lockMs: 10 * 60_000, monthEndMarginMs: 3 * 3_600_000 },
      windows: [BATCH_METER_USAGE_WINDOW],
      mode: 'live',
      retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
      leaseMs: 60_000,
      claimLimit: 100,
      maxBisectDepth: 5,
      configurationBackoffMs: 5 * 60_000,
    });
  await store.addUsage([delta({ hour: hour(0), quantity: OURS })]);
  let flusher = start();
  for (let i = 0; i < 40; i++) {
    if (restarts[i] === true) flusher = start();
    await flusher.flush();
    const [record] = await store.listRecords();
    if (record!.state !== 'pending' && record!.state !== 'sending') return { record: record!, ...ending };
    now += 10 * 60_000;
  }
  throw new Error('the record never settled');
}

describe('DuplicateRecord after a schedule of faults: own resend or conflict', () => {
  it('ends a conflict after one throttle as duplicate (the reported repro)', async () => {
    const ending = await runSchedule(['throttle'], 7);
    expect(ending.record).toMatchObject({ state: 'duplicate', reason: 'DuplicateRecord', mayHaveLanded: false });
    expect(ending).toMatchObject({ duplicateEvents: 1, sentEvents: 0 });
  });

  it('ends a conflict after one UnprocessedRecords round as duplicate (the reported repro)', async () => {
    const ending = await runSchedule(['unprocessed'], 7);
    expect(ending.record).toMatchObject({ state: 'duplicate', mayHaveLanded: false });
  });

  it('ends a conflict answered at once as duplicate, the record marked as never landed', async () => {
    const ending = await runSchedule([], 7);
    expect(ending.record).toMatchObject({ state: 'duplicate', attempts: 1, mayHaveLanded: false });
  });

  it('ends an own resend after a lost answer as sent, keeping the MeteringRecordId AWS returns', async () => {
    const ending = await runSchedule(['lost'], undefined);
    expect(ending.record).toMatchObject({ state: 'sent', reason: 'DuplicateRecordOfIdenticalResend', meteringRecordId: AWS_RECORD_ID, mayHaveLanded: true });
    expect(ending).toMatchObject({ duplicateEvents: 0, sentEvents: 1 });
  });

  it('any schedule of throttles, 4xx refusals and unprocessed rounds before a conflicting DuplicateRecord ends duplicate', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...DEFINITE), { maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        async (steps, restarts) => {
          const ending = await runSchedule(steps, 7, restarts);
          expect(ending.record).toMatchObject({ state: 'duplicate', reason: 'DuplicateRecord', mayHaveLanded: false });
          expect(ending).toMatchObject({ duplicateEvents: 1, sentEvents: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any schedule in which our record landed unanswered ends sent on the identical resend\'s DuplicateRecord', async () => {
    const schedule = fc
      .tuple(fc.array(fc.constantFrom(...DEFINITE, ...AMBIGUOUS), { maxLength: 5 }), fc.array(fc.constantFrom(...DEFINITE, ...AMBIGUOUS), { maxLength: 5 }))
      .map(([before, after]) => [...before, 'lost' as const, ...after]);
    await fc.assert(
      fc.asyncProperty(schedule, fc.array(fc.boolean(), { maxLength: 40 }), async (steps, restarts) => {
        const ending = await runSchedule(steps, undefined, restarts);
        expect(ending.record).toMatchObject({ state: 'sent', meteringRecordId: AWS_RECORD_ID, mayHaveLanded: true });
        expect(ending).toMatchObject({ duplicateEvents: 0, sentEvents: 1 });
      }),
      { numRuns: 150 },
    );
  });

  it('a DuplicateRecord is a conflict exactly when no call of the record can have landed before, whatever AWS held', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...DEFINITE, ...AMBIGUOUS), { maxLength: 10 }),
        fc.constantFrom(undefined, 7, OURS),
        fc.array(fc.boolean(), { maxLength: 40 }),
        async (steps, held, restarts) => {
          const ending = await runSchedule(steps, held, restarts);
          const ambiguous = steps.some((step) => AMBIGUOUS.includes(step));
          // AWS answers DuplicateRecord whenever it held the hour before the call: a conflict unless ours may be there.
          const conflict = held !== undefined && !ambiguous;
          expect(ending.record).toMatchObject({ id: idOf(), state: conflict ? 'duplicate' : 'sent', mayHaveLanded: !conflict });
          expect(ending).toMatchObject({ duplicateEvents: conflict ? 1 : 0, sentEvents: conflict ? 0 : 1 });
        },
      ),
      { numRuns: 200 },
    );
  });
});
