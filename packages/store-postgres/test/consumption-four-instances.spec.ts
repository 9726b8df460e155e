import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, type Emulator, type Subscription } from '@meterkit/emulator';
import { createMetering, customerKey, LifecycleReceiver, silentLogger, type CustomerIdentity, type Metering, type ProductConfig } from '@meterkit/core';
import { PostgresStore } from '../src';
import { PG_URL, SchemaJanitor } from './support/database';

/**
 * A contract with consumption billed by four app instances on one PostgreSQL database: every instance records the
 * same buyers' usage at once and persists it concurrently; only the usage above each buyer's entitlement reaches
 * AWS, exactly: max(0, used − included) per buyer and hour. An amendment raising an entitlement, delivered as its
 * EventBridge events to one instance, is what every instance measures the next hour against.
 */

const PRODUCT = 'prod-consumption-pg';
const HOUR = 3_600_000;
const HOUR_1 = Date.parse('2026-07-15T10:00:00Z');
const HOUR_2 = HOUR_1 + HOUR;
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const INSTANCES = 4;
const REQUESTS_PER_INSTANCE = 150;
/** Each buyer's api_quota: the first one's is raised before the second hour; the last one never uses all of it. */
const QUOTAS = [300, 0, 5000];
const RAISED_QUOTA = 400;
const SECRET = 'events-secret-of-the-app';

const CONFIG: ProductConfig = {
  productCode: PRODUCT,
  dimensions: ['api_calls', 'storage'],
  pricing: 'contract-with-consumption',
  entitlements: ['api_quota', 'seats'],
  included: { api_calls: { entitlement: 'api_quota' } },
};

// Real connections, HTTP and transactions: a loaded machine may need far more than the default 5 s.
jest.setTimeout(180_000);

const janitor = new SchemaJanitor();
let emu: Emulator;
let engines: Metering[] = [];
let observer: PostgresStore | undefined;
let receiver: Server | undefined;

beforeAll(() => janitor.assertServerAnswers());
afterEach(async () => {
  for (const engine of engines) await engine.close().catch(() => undefined);
  engines = [];
  await observer?.close();
  observer = undefined;
  await emu?.close();
  await new Promise((resolve) => (receiver === undefined ? resolve(undefined) : receiver.close(resolve)));
  receiver = undefined;
});

/** The app's EventBridge route (an API destination), served by one instance: `engine`. */
async function startReceiver(engine: () => Metering): Promise<string> {
  let route: LifecycleReceiver | undefined;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      route ??= new LifecycleReceiver(engine(), { path: '/events', secret: SECRET });
      route.handle({ headers: req.headers, body: Buffer.concat(chunks) }).then(
        (result) => res.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body)),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
}

/** Polls `condition` (real time, no bound on how fast it must come true, up to a minute on a loaded machine). */
async function eventually(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await condition()) return;
    await sleep(20);
  }
  throw new Error(`${what}: not after a minute`);
}
afterAll(() => janitor.dropAll());

function startEngines(schema: string): Metering[] {
  return Array.from({ length: INSTANCES }, () =>
    createMetering({
      products: [CONFIG],
      store: new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 }),
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: CREDENTIALS },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      durability: 'interval',
      lockMinutes: 0,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      requestsPerSecond: 10_000,
      entitlements: { requestsPerSecond: 1_000 },
    }),
  );
}

type Usage = Map<string, number>;
const usageKey = (buyer: number, dimension: string, hour: number) => `${buyer}|${dimension}|${hour}`;

/**
 * Every instance serves requests of every buyer at once, persisting every few requests while the others do:
 * api_calls 1 to 4 units, now and then a unit of storage. Answers the units recorded per buyer, dimension and hour.
 */
async function traffic(buyers: readonly CustomerIdentity[], round: number): Promise<Usage> {
  const recorded: Usage = new Map();
  const add = (buyer: number, dimension: string, hour: number, quantity: number) =>
    recorded.set(usageKey(buyer, dimension, hour), (recorded.get(usageKey(buyer, dimension, hour)) ?? 0) + quantity);
  await Promise.all(
    engines.map(async (engine, i) => {
      for (let k = 0; k < REQUESTS_PER_INSTANCE; k++) {
        const buyer = (i * 7 + k + round) % buyers.length;
        const meter = engine.meter(buyers[buyer]!);
        const calls = 1 + ((k * 13 + i + round) % 4);
        meter.record('api_calls', calls);
        add(buyer, 'api_calls', meter.hour, calls);
        if (k % 5 === i) {
          meter.record('storage', 1);
          add(buyer, 'storage', meter.hour, 1);
        }
        await meter.commit();
        if (k % 10 === 9) await engine.persist();
        await turn();
      }
      await engine.persist();
    }),
  );
  return recorded;
}

/** Every instance flushes at once until nothing is left to send. */
async function flushAll(store: PostgresStore): Promise<void> {
  for (let round = 0; round < 20; round++) {
    await Promise.all(engines.map((engine) => engine.persist()));
    await Promise.all(engines.map((engine) => engine.flush()));
    if ((await store.stats()).unsettledByHour.length === 0) return;
  }
  throw new Error('records were still unsettled after 20 rounds of flushes');
}

function quotaOf(set: { entitlements: readonly { dimension: string; value: unknown }[] } | undefined): unknown {
  return set?.entitlements.find((e) => e.dimension === 'api_quota')?.value;
}

it('four instances on one PostgreSQL database bill exactly the usage above each buyer\'s entitlement, before and after a raise', async () => {
  const schema = janitor.fresh('consumption');
  const events = await startReceiver(() => engines[2]!);
  emu = await startEmulator({
    now: HOUR_1 + 5 * 60_000,
    events: { url: events, headerValue: SECRET },
    products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'storage'], pricing: 'contract-with-consumption', contractDimensions: ['api_quota', 'seats'] }],
  });
  engines = startEngines(schema);
  observer = new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });

  // Each buyer registers through a different instance, which reads its entitlements from AWS into the store.
  const subscriptions: Subscription[] = [];
  const buyers: CustomerIdentity[] = [];
  for (const [i, quota] of QUOTAS.entries()) {
    const subscription = await emu.subscribe({ productCode: PRODUCT, contract: { dimensions: { api_quota: quota, seats: 5 } } });
    const record = await engines[i % INSTANCES]!.resolveRegistration(subscription.token);
    subscriptions.push(subscription);
    buyers.push(record.identity);
  }
  await observer.open();
  for (const [i, buyer] of buyers.entries()) expect(quotaOf(await observer.getEntitlements(customerKey(buyer)))).toBe(QUOTAS[i]);

  const hour1 = await traffic(buyers, 0);

  // The second hour: the first buyer's contract is amended; its EventBridge events reach one instance, which reads
  // the new set into the store.
  emu.clock.set(HOUR_2 + 10_000);
  await emu.amend(subscriptions[0]!.agreementId, { dimensions: { api_quota: RAISED_QUOTA } });
  await eventually('the raised entitlement is stored', async () => quotaOf(await observer!.getEntitlements(customerKey(buyers[0]!))) === RAISED_QUOTA);
  // Past every instance's entitlement cache (entitlements.cacheMs, 5 s), every instance sees the raise.
  emu.clock.set(HOUR_2 + 20_000);
  for (const engine of engines) expect(quotaOf(await engine.entitlementsOf(customerKey(buyers[0]!)))).toBe(RAISED_QUOTA);

  // The first hour is flushed by all instances at once while the second hour's traffic runs.
  const [hour2] = await Promise.all([traffic(buyers, 1), Promise.all(engines.map((engine) => engine.flush()))]);
  emu.clock.set(HOUR_2 + HOUR + 10_000);
  await flushAll(observer);

  const recorded = new Map([...hour1, ...hour2]);
  const expected = new Map<string, number>();
  for (const [key, used] of recorded) {
    const [buyer, dimension, hour] = key.split('|') as [string, string, string];
    const included = dimension !== 'api_calls' ? 0 : Number(buyer) === 0 && Number(hour) === HOUR_2 ? RAISED_QUOTA : QUOTAS[Number(buyer)]!;
    if (used - included > 0) expected.set(key, used - included);
  }
  const atAws = new Map<string, number>();
  const buyerOf = new Map(buyers.map((b, i) => [b.kind === 'license' ? b.licenseArn : '', i]));
  for (const record of emu.inspect.records()) {
    const key = usageKey(buyerOf.get(record.licenseArn!)!, record.dimension, record.hour);
    expect(atAws.has(key)).toBe(false);
    atAws.set(key, record.quantity);
  }
  expect(Object.fromEntries([...atAws].sort())).toEqual(Object.fromEntries([...expected].sort()));
  // The case exercises what it claims: the first buyer above both quotas, the second all metered, the third never.
  expect(expected.get(usageKey(0, 'api_calls', HOUR_1))).toBeGreaterThan(0);
  expect(expected.get(usageKey(0, 'api_calls', HOUR_2))).toBeGreaterThan(0);
  expect(expected.get(usageKey(1, 'api_calls', HOUR_1))).toBe(recorded.get(usageKey(1, 'api_calls', HOUR_1)));
  expect([...atAws.keys()].filter((key) => key.startsWith('2|api_calls'))).toEqual([]);
  expect(emu.inspect.duplicates()).toEqual([]);

  // The store counted every unit once, per buyer and hour.
  for (const [i, buyer] of buyers.entries()) {
    const counters = await observer.listAllowanceCounters(customerKey(buyer));
    expect(counters.map((c) => [c.allowanceDimension, c.periodStart, c.used])).toEqual([
      ['api_quota', HOUR_2, recorded.get(usageKey(i, 'api_calls', HOUR_2))],
      ['api_quota', HOUR_1, recorded.get(usageKey(i, 'api_calls', HOUR_1))],
    ]);
  }
  expect((await observer.stats()).lateQuantity).toBe(0);
});
