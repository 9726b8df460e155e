import { recordId, TERMINAL_STATES, type StoredRecord, type TerminalState } from '../../src';
import { H_AMI, H_LEGACY, SLOTS, type EngineHarness, type Slot } from '../support/engine-harness';
import { Model, type ModelKey } from './model';

/** A broken invariant: the message names the key, what the model expected and what the engine and AWS hold. */
export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

function describe(key: Pick<ModelKey, 'slot' | 'dimension' | 'hour'>): string {
  return `${key.slot}/${key.dimension}@${new Date(key.hour).toISOString()}`;
}

/** What AWS (the emulator) accepted per model key, whatever identity form carried it. */
export function awsTotals(r: EngineHarness): Map<string, number> {
  const bySlot = (record: { operation: string; productCode: string; licenseArn?: string; customerIdentifier?: string; customerAWSAccountId?: string }): Slot | undefined => {
    if (record.operation === 'MeterUsage') return record.productCode === H_AMI ? 'product' : undefined;
    for (const slot of SLOTS) {
      if (!r.slots.has(slot)) continue;
      const info = r.info(slot);
      if (record.licenseArn !== undefined) {
        if (info.licenseArn === record.licenseArn) return slot;
      } else if (record.productCode === H_LEGACY && slot === 'legacy') {
        if (record.customerIdentifier === info.customerIdentifier || (record.customerIdentifier === undefined && record.customerAWSAccountId === info.accountId)) return slot;
      }
    }
    return undefined;
  };
  const totals = new Map<string, number>();
  for (const record of r.emu.inspect.records()) {
    const slot = bySlot(record);
    if (slot === undefined) fail(`AWS holds a record for a customer nobody metered: ${JSON.stringify(record)}`);
    const id = Model.id(slot, record.dimension, record.hour);
    totals.set(id, (totals.get(id) ?? 0) + record.quantity);
  }
  return totals;
}

/** The emulator's de-duplication key of a key, as DuplicateRow.key prints it (legacy: by CustomerIdentifier or by account). */
function emulatorKey(r: EngineHarness, slot: Slot, dimension: string, hour: number, byAccount: boolean): string {
  const iso = new Date(hour).toISOString();
  const info = r.info(slot);
  const region = r.emu.region;
  if (slot === 'product') return `${region}|test|${H_AMI}|${dimension}|${iso}`;
  if (slot === 'legacy') return byAccount ? `${region}|A|${H_LEGACY}|${info.accountId}|${dimension}|${iso}` : `${region}|C|${H_LEGACY}|${info.customerIdentifier}|${dimension}|${iso}`;
  return `${region}|L|${info.licenseArn}|${info.accountId}|${dimension}|${iso}`;
}

function count(map: ReadonlyMap<string, number>, id: string): number {
  return map.get(id) ?? 0;
}

function isTerminal(state: string): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

/** Cheap checks after every command: no DuplicateRecord we caused ourselves, nothing both sent and expired. */
export async function checkAfterCommand(m: Model, r: EngineHarness): Promise<void> {
  const seededKeys = new Set<string>();
  for (const key of m.keys.values()) {
    if (key.seeded === undefined) continue;
    for (const byAccount of [false, true]) seededKeys.add(emulatorKey(r, key.slot, key.dimension, key.hour, byAccount));
  }
  const refused = new Map<string, number>();
  for (const s of m.refusedSeeds) {
    // A legacy buyer's key may be kept per identity form or per buyer: count the refusal under both forms.
    for (const byAccount of s.slot === 'legacy' ? [false, true] : [s.byAccount]) {
      const k = emulatorKey(r, s.slot, s.dimension, s.hour, byAccount);
      refused.set(k, (refused.get(k) ?? 0) + 1);
    }
  }
  const ours = new Map<string, number>();
  for (const row of r.emu.inspect.duplicates()) {
    if (seededKeys.has(row.key)) continue;
    ours.set(row.key, (ours.get(row.key) ?? 0) + 1);
    if (ours.get(row.key)! > (refused.get(row.key) ?? 0)) {
      fail(`AWS answered a duplicate for ${row.key} (holds ${row.acceptedQuantity}, got ${row.attemptedQuantity}) although nobody but meterkit sent it: a resend of our own was not identical`);
    }
  }
  for (const [id, sent] of r.events.sent) {
    if (sent > 0 && count(r.events.expired, id) > 0) fail(`record ${id} was reported both sent and expired`);
  }
  if (r.untakenUncertain > 0) fail(`${r.untakenUncertain} keys were carried by calls without a definite answer that the model was not told of`);
  if (r.callsAfterDeath.length > 0) fail(`an instance made calls after its process died: ${r.callsAfterDeath.join(', ')}`);
}

/**
 * The invariants of a whole run, checked against the store, the engine's events and what AWS holds.
 * `final`: the run is over and every window has passed, so every record must be terminal.
 */
export async function checkRun(m: Model, r: EngineHarness, final: boolean): Promise<void> {
  await checkAfterCommand(m, r);
  const records = new Map<string, StoredRecord>();
  for (const record of await r.metering.store.listRecords()) records.set(record.id, record);
  const aws = awsTotals(r);
  const late = new Map<string, number>();
  for (const d of r.events.late) late.set(`${d.customerKey}|${d.dimension}|${d.hour}`, (late.get(`${d.customerKey}|${d.dimension}|${d.hour}`) ?? 0) + d.quantity);

  const known = new Set<string>();
  for (const key of m.keys.values()) {
    const info = r.info(key.slot);
    const id = recordId(info.key, key.dimension, key.hour);
    known.add(id);
    const what = describe(key);
    const record = records.get(id);
    const atAws = aws.get(Model.id(key.slot, key.dimension, key.hour)) ?? 0;
    const lateUnits = late.get(`${info.key}|${key.dimension}|${key.hour}`) ?? 0;
    if (lateUnits > 0 && !m.stopped.has(key.slot)) fail(`${what}: ${lateUnits} units arrived after the record was frozen although the customer was never deprovisioned`);
    // Units still only in memory reach the store (or turn late) at the next persist: compare what was persisted.
    const expected = key.promised - lateUnits - key.unpersisted;
    const seeded = key.seeded;
    const deadline = Model.deadline(key);

    if (record === undefined) {
      if (key.promised - key.unpersisted !== 0) fail(`${what}: ${key.promised - key.unpersisted} units were promised and persisted but the store has no record`);
      if (atAws !== (seeded?.quantity ?? 0)) fail(`${what}: AWS holds ${atAws}, but only the seeded prior (${seeded?.quantity ?? 0}) was ever sent`);
      continue;
    }
    const state = record.state;
    const frozen = record.frozen?.quantity;
    if (frozen !== undefined && frozen !== expected) fail(`${what}: the record froze ${frozen} units, the requests promised ${expected}`);
    if (record.quantity !== key.promised - key.unpersisted) fail(`${what}: the store holds ${record.quantity} units, the requests promised ${key.promised - key.unpersisted}`);
    // Records expire when a flush finds them late; at the end the app has flushed past every window.
    if (final && !isTerminal(state)) fail(`${what}: still ${state} after its window closed at ${new Date(deadline).toISOString()} with the app flushing`);
    if (count(r.events.sent, id) > 0 && count(r.events.expired, id) > 0) fail(`${what}: reported both sent and expired`);
    if (state === 'expired' && count(r.events.expired, id) === 0) fail(`${what}: expired without an expired event`);
    if (state === 'duplicate' && count(r.events.duplicate, id) === 0) fail(`${what}: duplicate without a duplicate event`);
    if (state === 'sent' && count(r.events.sent, id) === 0) fail(`${what}: sent without a sent event`);

    const conflict = seeded !== undefined && seeded.quantity !== expected;
    if (conflict) {
      if (atAws !== seeded.quantity) fail(`${what}: AWS held ${seeded.quantity} from a prior record and now holds ${atAws}: billed twice or changed`);
      // BatchMeterUsage may answer DuplicateRecord to an identical resend after a lost answer (reference §5), so
      // a record that may have landed is allowed to be taken as ours. MeterUsage answers an identical resend with
      // its first MeteringRecordId: DuplicateRequestException always means another quantity.
      const mayBeOurs = key.ambiguous && key.slot !== 'product';
      if (state === 'sent' && !mayBeOurs) {
        fail(`${what}: AWS holds a different quantity (${seeded.quantity}) from a prior record, meterkit promised ${expected}: the conflict was booked as sent (${record.reason ?? 'Success'}) instead of duplicate`);
      }
      if (state !== 'sent' && state !== 'duplicate' && state !== 'expired' && isTerminal(state)) fail(`${what}: a conflict ended ${state}`);
      if (key.obligated && state !== 'duplicate' && state !== 'sent') fail(`${what}: a conflict that could be sent inside its window ended ${state} instead of duplicate`);
      continue;
    }
    if (seeded !== undefined) {
      // AWS holds exactly this quantity already (perhaps with other tags or another identity form): billed once.
      if (state === 'duplicate') fail(`${what}: AWS holds the same quantity (${expected}) from a prior record, but meterkit reported a duplicate (not billed)`);
      if (atAws !== expected) fail(`${what}: promised ${expected}, AWS holds ${atAws} (a prior record of the same quantity was billed again)`);
    } else {
      if (state === 'duplicate') fail(`${what}: ended duplicate (${record.reason}) although nobody but meterkit sent it`);
      if (state === 'sent' && atAws !== expected) fail(`${what}: sent, promised ${expected}, AWS holds ${atAws}`);
      if (state !== 'sent' && atAws !== 0 && !(key.ambiguous && atAws === expected)) fail(`${what}: ${state}, yet AWS holds ${atAws} (promised ${expected})`);
    }
    if (key.obligated && state !== 'sent') {
      fail(`${what}: could be sent inside its window (due by ${new Date(m.readyAt(key)).toISOString()}, window until ${new Date(deadline).toISOString()}) but ended ${state}${record.reason === undefined ? '' : ` (${record.reason})`}`);
    }
    if (state !== 'sent' && state !== 'expired' && isTerminal(state)) fail(`${what}: ended ${state} (${record.reason ?? ''})`);
  }
  for (const record of records.values()) {
    if (!known.has(record.id)) fail(`the store holds a record nobody promised: ${record.customerKey}/${record.dimension}@${new Date(record.hour).toISOString()} = ${record.quantity}`);
  }
}
