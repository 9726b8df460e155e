import fc from 'fast-check';
import { recordId, type StoredRecord } from '../../src';
import { EngineHarness, type SendPhase, type Slot } from '../support/engine-harness';
import { appRuns, C } from './commands';
import { awsTotals, checkRun } from './invariants';
import { Model } from './model';

/**
 * The whole-engine property's crash in the middle of a send (C.crashMidSend), one phase at a time: where the held
 * call is when the process dies, what the store and AWS hold then, and how the next instance ends the record.
 */

const START = '2026-07-15T10:20:00.000Z';
const QUANTITY = 3;
const HOUR = 3_600_000;

interface Crashed {
  readonly harness: EngineHarness;
  readonly model: Model;
  /** The record of the crashed call's key as the next instance finds it. */
  readonly record: StoredRecord;
  /** What AWS holds for the key right after the crash. */
  readonly atAws: number;
}

const harnesses: EngineHarness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

/** Usage of `slot` for the 10:00 hour (AWS already holding `prior` for it, if given), then a crash in `phase`. */
async function crash(slot: Slot, phase: SendPhase, prior?: number): Promise<Crashed> {
  const start = Date.parse(START);
  const harness = await EngineHarness.start({ store: 'sqlite', durability: 'sync', lockMinutes: 0, start, productMode: true });
  harnesses.push(harness);
  const model = new Model({ lockMs: 0, durability: 'sync', crashes: true }, start);
  await fc.asyncModelRun(() => ({ model, real: harness }), [
    ...(prior === undefined ? [] : [C.seed(slot, 'api_calls', prior)]),
    C.commit(slot, [['api_calls', QUANTITY]]),
    C.crashMidSend(phase, 0, true),
  ]);
  expect(harness.midSendCrashes[phase]).toBe(1);
  const hour = Date.parse('2026-07-15T10:00:00.000Z');
  const record = (await harness.metering.store.listRecords()).find((r) => r.id === recordId(harness.info(slot).key, 'api_calls', hour))!;
  return { harness, model, record, atAws: awsTotals(harness).get(Model.id(slot, 'api_calls', hour)) ?? 0 };
}

/** The app runs past every window; every invariant holds; the key's record as it ends. */
async function end({ harness, model }: Crashed, slot: Slot): Promise<{ record: StoredRecord; atAws: number }> {
  await appRuns(harness, model, model.now + 8 * HOUR);
  await checkRun(model, harness, true);
  const hour = Date.parse('2026-07-15T10:00:00.000Z');
  const record = (await harness.metering.store.listRecords()).find((r) => r.id === recordId(harness.info(slot).key, 'api_calls', hour))!;
  expect(harness.callsAfterDeath).toEqual([]);
  return { record, atAws: awsTotals(harness).get(Model.id(slot, 'api_calls', hour)) ?? 0 };
}

describe.each<Slot>(['legacy', 'product'])('crash in the middle of a send (%s)', (slot) => {
  it('waiting for its send slot: nothing journaled, nothing at AWS; the next instance sends it once', async () => {
    const crashed = await crash(slot, 'waiting-for-slot');
    expect(crashed.record).toMatchObject({ state: 'sending', attempts: 0, mayHaveLanded: false });
    expect(crashed.atAws).toBe(0);
    expect(crashed.model.keys.get(Model.id(slot, 'api_calls', crashed.record.hour))?.ambiguous).toBe(false);
    expect(await end(crashed, slot)).toMatchObject({ record: { state: 'sent' }, atAws: QUANTITY });
  });

  it('on the wire, not applied: journaled, nothing at AWS; the key is ambiguous to the model and is sent once', async () => {
    const crashed = await crash(slot, 'on-the-wire');
    expect(crashed.record).toMatchObject({ state: 'sending', attempts: 1, mayHaveLanded: true });
    expect(crashed.atAws).toBe(0);
    expect(crashed.model.keys.get(Model.id(slot, 'api_calls', crashed.record.hour))?.ambiguous).toBe(true);
    expect(await end(crashed, slot)).toMatchObject({ record: { state: 'sent' }, atAws: QUANTITY });
  });

  it('applied, answer lost: journaled and at AWS; the next instance\'s resend is taken as its own, billed once', async () => {
    const crashed = await crash(slot, 'answer-lost');
    expect(crashed.record).toMatchObject({ state: 'sending', attempts: 1, mayHaveLanded: true });
    expect(crashed.atAws).toBe(QUANTITY);
    expect(await end(crashed, slot)).toMatchObject({ record: { state: 'sent' }, atAws: QUANTITY });
  });

  it('waiting for its send slot with another quantity already at AWS: the next instance reports it duplicate', async () => {
    const crashed = await crash(slot, 'waiting-for-slot', QUANTITY + 4);
    expect(crashed.atAws).toBe(QUANTITY + 4);
    expect(await end(crashed, slot)).toMatchObject({ record: { state: 'duplicate' }, atAws: QUANTITY + 4 });
  });
});
