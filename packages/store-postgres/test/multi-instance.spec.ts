import { startEmulator, type Emulator } from '@meterkit/emulator';
import type { CustomerIdentity, StoredRecord } from '@meterkit/core';
import { PostgresStore } from '../src';
import path from 'node:path';
import { addTotals, AppInstance, assertBuilt, waitUntil, type SentRecord, type Totals } from '../../../tools/testing/multi-instance/app-instances';
import { PG_URL, SchemaJanitor } from './support/database';

const PRODUCT = 'prod-shared';
const DIMENSIONS = ['api_calls', 'gb_processed'];
const HOUR = 3_600_000;
const START = Date.parse('2026-07-15T10:20:00Z');

// Child processes start, meter and flush for a few seconds; a loaded machine may need far more.
jest.setTimeout(120_000);

const janitor = new SchemaJanitor();
let emu: Emulator;
let observer: PostgresStore;
const STORE_MODULE = path.join(__dirname, 'fixtures', 'store.js');
let instances: AppInstance[] = [];

beforeAll(async () => {
  assertBuilt(['core', 'store-postgres']);
  await janitor.assertServerAnswers();
});
beforeEach(async () => {
  emu = await startEmulator({ now: START, products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
});
afterEach(async () => {
  await Promise.all(instances.map((instance) => instance.dispose()));
  instances = [];
  await observer?.close();
  await emu.close();
});
afterAll(() => janitor.dropAll());

async function customers(count: number): Promise<CustomerIdentity[]> {
  const identities: CustomerIdentity[] = [];
  for (let i = 0; i < count; i++) {
    const buyer = await emu.subscribe({ productCode: PRODUCT });
    identities.push({ kind: 'license', licenseArn: buyer.licenseArn ?? '', customerAwsAccountId: buyer.accountId, productCode: PRODUCT });
  }
  return identities;
}

async function startInstances(count: number, schema: string, leaseMs: number): Promise<AppInstance[]> {
  const started = Array.from({ length: count }, (_, i) => new AppInstance(`instance-${i + 1}`, { emu, storeModule: STORE_MODULE, env: { METERKIT_TEST_PG_URL: PG_URL, PG_SCHEMA: schema }, productCode: PRODUCT, dimensions: DIMENSIONS, leaseMs }));
  instances.push(...started);
  await Promise.all(started.map((instance) => instance.ready()));
  return started;
}

async function openObserver(schema: string): Promise<PostgresStore> {
  observer = new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });
  await observer.open();
  return observer;
}

async function allSettled(store: PostgresStore): Promise<boolean> {
  return (await store.stats()).unsettledByHour.length === 0;
}

function acceptedTotals(identities: readonly CustomerIdentity[]): Totals {
  const totals: Totals = {};
  for (const identity of identities) {
    if (identity.kind !== 'license') continue;
    for (const dimension of DIMENSIONS) {
      const quantity = emu.inspect.totalFor({ licenseArn: identity.licenseArn, dimension });
      if (quantity > 0) totals[`${identity.licenseArn}|${dimension}`] = quantity;
    }
  }
  return totals;
}

const keyOf = (r: { licenseArn?: string; dimension: string; hour: number }) => `${r.licenseArn}|${r.dimension}|${r.hour}`;

/** Each (license, dimension, hour) accepted once, and every send of it carried the same content. */
function expectEachRecordAcceptedOnce(sent: readonly SentRecord[]): void {
  const accepted = emu.inspect.records().map(keyOf);
  expect(new Set(accepted).size).toBe(accepted.length);
  expect(emu.inspect.duplicates()).toEqual([]);
  const contentByKey = new Map<string, Set<string>>();
  for (const record of sent) {
    const contents = contentByKey.get(keyOf(record)) ?? new Set<string>();
    contents.add(JSON.stringify([record.quantity, record.allocations]));
    contentByKey.set(keyOf(record), contents);
  }
  for (const contents of contentByKey.values()) expect(contents.size).toBe(1);
  expect([...contentByKey.keys()].sort()).toEqual([...accepted].sort());
}

it('four instances metering the same customers while they all flush send each aggregate exactly once', async () => {
  const schema = janitor.fresh('multi');
  const identities = await customers(3);
  const apps = await startInstances(4, schema, 10_000);
  const store = await openObserver(schema);
  const recorded: Totals = {};

  // Each round meters one hour on every instance while all their flushers race to send the hour before.
  // The clock jumps to the next hour only once nothing is leased: a jump must not expire a lease in use.
  for (let round = 0; round < 3; round++) {
    const hour = Date.parse('2026-07-15T10:00:00Z') + round * HOUR;
    const totals = await Promise.all(apps.map((app, i) => app.traffic(identities, 200, 1000 * round + i + 1)));
    for (const t of totals) addTotals(recorded, t);
    await waitUntil('the hours before this one are settled', async () =>
      (await store.stats()).unsettledByHour.every((stats) => stats.hour === hour),
    );
    emu.clock.set(hour + HOUR);
    for (const app of apps) app.syncClock(emu);
  }
  await waitUntil('every hour is settled', () => allSettled(store));
  await Promise.all(apps.map((app) => app.close()));

  expect(acceptedTotals(identities)).toEqual(recorded);
  const sent = apps.flatMap((app) => app.calls.flat());
  expectEachRecordAcceptedOnce(sent);
  // No faults: no record needed a second send, so none went out twice.
  expect(sent).toHaveLength(emu.inspect.records().length);
  const stats = await store.stats();
  expect(stats.lateQuantity).toBe(0);
  expect(stats.countsByState.sent).toBe(3 * identities.length * DIMENSIONS.length);
});

it('an instance killed while it holds a claim: another one sends those aggregates once the lease expires', async () => {
  const schema = janitor.fresh('kill');
  const identities = await customers(3);
  const [victim, survivor] = (await startInstances(2, schema, 2_000)) as [AppInstance, AppInstance];
  const store = await openObserver(schema);
  const recorded: Totals = {};
  addTotals(recorded, await victim.traffic(identities, 120, 7));
  addTotals(recorded, await survivor.traffic(identities, 120, 8));

  // Only the victim sees the hour close; the emulator holds its call long enough to kill it mid-send.
  emu.faults.set({ latencyMs: 1500 });
  emu.clock.set(START + HOUR);
  victim.syncClock(emu);
  let held: StoredRecord[] = [];
  await waitUntil('the victim journaled a send of its claimed records', async () => {
    held = (await store.listRecords({ states: ['sending'] })).filter((record) => record.attempts > 0);
    return held.length > 0;
  });
  await victim.kill();
  emu.faults.set({ latencyMs: 0 });
  const victimOwner = held[0]?.leaseOwner;
  expect(held.every((record) => record.leaseOwner === victimOwner)).toBe(true);

  survivor.syncClock(emu);
  await waitUntil('every hour is settled', () => allSettled(store));
  await survivor.close();

  expect(acceptedTotals(identities)).toEqual(recorded);
  expectEachRecordAcceptedOnce([...victim.calls.flat(), ...survivor.calls.flat()]);
  for (const record of held) {
    const now = (await store.listRecords()).find((r) => r.id === record.id);
    // Journaled by the victim, then again by the survivor that took the expired lease over and sent it.
    expect(now).toMatchObject({ state: 'sent', attempts: record.attempts + 1 });
  }
  expect(survivor.calls.flat().map(keyOf).sort()).toEqual(expect.arrayContaining(held.map((r) => `${r.customer.kind === 'license' ? r.customer.licenseArn : ''}|${r.dimension}|${r.hour}`)));
});
