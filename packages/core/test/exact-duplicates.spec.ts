import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchMeterUsageCommand, MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import type { Emulator } from '@meterkit/emulator';
import { createMetering, silentLogger, type CustomerIdentity, type Metering, type MeteringEvents, type MeteringOptions } from '../src';
import { SqliteStore } from '../src/store/sqlite';
import type { StoredRecord } from '../src/store/usage-store';
import { LICENSED, DIMENSIONS, startWorld, type World } from './support/world';

type License = Extract<CustomerIdentity, { kind: 'license' }>;

const HOUR = '2026-07-15T10:00:00Z';

/** Another sender already put `quantity` at AWS for the customer's api_calls hour; returns its MeteringRecordId. */
async function awsAlreadyHolds(emu: Emulator, customer: License, quantity: number): Promise<string> {
  const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1 });
  try {
    const output = await client.send(
      new BatchMeterUsageCommand({
        UsageRecords: [{ CustomerAWSAccountId: customer.customerAwsAccountId, LicenseArn: customer.licenseArn, Dimension: 'api_calls', Quantity: quantity, Timestamp: new Date(HOUR) }],
      }),
    );
    return output.Results![0]!.MeteringRecordId!;
  } finally {
    client.destroy();
  }
}

function watch(metering: Metering): { duplicates: StoredRecord[]; sent: StoredRecord[] } {
  const seen = { duplicates: [] as StoredRecord[], sent: [] as StoredRecord[] };
  metering.on('duplicate', (e: MeteringEvents['duplicate']) => seen.duplicates.push(e.record));
  metering.on('sent', (e: MeteringEvents['sent']) => seen.sent.push(...e.records));
  return seen;
}

describe('a conflicting DuplicateRecord is never booked as sent after answers that applied nothing', () => {
  let world: World;
  afterEach(() => world.close());

  async function conflict(options: Partial<MeteringOptions> = {}): Promise<ReturnType<typeof watch>> {
    world = await startWorld(options);
    const customer = (await world.license()) as License;
    await awsAlreadyHolds(world.emu, customer, 7);
    const seen = watch(world.metering);
    await world.metering.meter(customer).record('api_calls', 5).commit();
    world.setTime('2026-07-15T11:30:00Z');
    return seen;
  }

  function expectReportedDuplicate(seen: ReturnType<typeof watch>): void {
    expect(seen.sent).toEqual([]);
    expect(seen.duplicates.map((r) => [r.state, r.reason, r.frozen?.quantity])).toEqual([['duplicate', 'DuplicateRecord', 5]]);
    expect(world.emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(7);
  }

  it('after a ThrottlingException in the same flush', async () => {
    const seen = await conflict();
    world.emu.faults.failNext('BatchMeterUsage', 'ThrottlingException');

    expect(await world.metering.flush()).toMatchObject({ calls: 2, duplicate: 1, sent: 0 });

    expectReportedDuplicate(seen);
    expect((await world.metering.status()).counts).toMatchObject({ duplicate: 1, sent: 0 });
  });

  it('after UnprocessedRecords rounds that handed the record back to a later flush', async () => {
    const seen = await conflict();
    world.emu.faults.set({ unprocessedRate: 1 });
    expect(await world.metering.flush()).toMatchObject({ released: 1, sent: 0, duplicate: 0 });
    world.emu.faults.set({ unprocessedRate: 0 });
    world.emu.clock.advance(60_000);

    expect(await world.metering.flush()).toMatchObject({ calls: 1, duplicate: 1, sent: 0 });

    expectReportedDuplicate(seen);
  });

  it('after a 4xx refusal of the whole call in an earlier flush', async () => {
    const seen = await conflict();
    world.emu.faults.failNext('BatchMeterUsage', 'AccessDeniedException');
    expect(await world.metering.flush()).toMatchObject({ released: 1, sent: 0 });
    world.emu.clock.advance(10 * 60_000);

    expect(await world.metering.flush()).toMatchObject({ calls: 1, duplicate: 1, sent: 0 });

    expectReportedDuplicate(seen);
  });
});

describe('whether a record may be at AWS survives a crash (SQLite file, a new process after the lease expired)', () => {
  let world: World;
  let dir: string;
  const others: Metering[] = [];
  /** Ends a call left hanging by a process that "died", so that its Metering can close. */
  let abandon: ((error: Error) => void) | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meterkit-landed-'));
  });
  afterEach(async () => {
    for (const metering of others.splice(0)) await metering.close().catch(() => undefined);
    abandon?.(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    abandon = undefined;
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Another process on the same SQLite file and the same emulator. */
  function restart(file: string): Metering {
    const metering = createMetering({
      products: [{ productCode: LICENSED, dimensions: DIMENSIONS }],
      store: `sqlite:${file}`,
      aws: { region: 'us-east-1', endpoint: world.emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => world.emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      leaseMs: 60_000,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    others.push(metering);
    return metering;
  }

  async function storedRecords(file: string): Promise<StoredRecord[]> {
    const store = new SqliteStore({ path: file });
    await store.open();
    try {
      return await store.listRecords();
    } finally {
      await store.close();
    }
  }

  it('a call in flight when the process died may have landed: a DuplicateRecord then is its own resend, with AWS\'s MeteringRecordId', async () => {
    const file = join(dir, 'usage.db');
    let callStarted!: () => void;
    const started = new Promise<void>((resolve) => (callStarted = resolve));
    // The process dies while its call is on the wire: no answer ever comes back.
    const dying = {
      config: { region: async () => 'us-east-1' },
      send: () => {
        callStarted();
        return new Promise((_resolve, reject) => (abandon = reject));
      },
      destroy: () => undefined,
    } as unknown as MarketplaceMeteringClient;
    world = await startWorld({ store: `sqlite:${file}`, aws: { client: dying }, leaseMs: 60_000 });
    const customer = (await world.license()) as License;
    const atAws = await awsAlreadyHolds(world.emu, customer, 7);
    await world.metering.meter(customer).record('api_calls', 5).commit();
    world.setTime('2026-07-15T11:30:00Z');
    void world.metering.flush();
    await started;
    expect((await storedRecords(file)).map((r) => [r.state, r.attempts, r.mayHaveLanded])).toEqual([['sending', 1, true]]);

    world.emu.clock.advance(60_000);
    const after = restart(file);
    const seen = watch(after);
    expect(await after.flush()).toMatchObject({ claimed: 1, sent: 1, duplicate: 0 });

    expect(seen.sent.map((r) => [r.reason, r.meteringRecordId])).toEqual([['DuplicateRecordOfIdenticalResend', atAws]]);
    const [stored] = await storedRecords(file);
    expect(stored).toMatchObject({ state: 'sent', meteringRecordId: atAws, mayHaveLanded: true, attempts: 2 });
  });

  it('a throttle answered before the process died applied nothing: the conflict is reported after restart', async () => {
    const file = join(dir, 'usage.db');
    world = await startWorld({ store: `sqlite:${file}`, leaseMs: 60_000, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 5 } });
    const customer = (await world.license()) as License;
    await awsAlreadyHolds(world.emu, customer, 7);
    await world.metering.meter(customer).record('api_calls', 5).commit();
    world.setTime('2026-07-15T11:30:00Z');
    world.emu.faults.failNext('BatchMeterUsage', 'ThrottlingException');
    expect(await world.metering.flush()).toMatchObject({ released: 1 });
    expect((await storedRecords(file)).map((r) => [r.state, r.attempts, r.mayHaveLanded])).toEqual([['pending', 1, false]]);

    world.emu.clock.advance(60_000);
    const after = restart(file);
    const seen = watch(after);
    expect(await after.flush()).toMatchObject({ claimed: 1, sent: 0, duplicate: 1 });

    expect(seen.duplicates.map((r) => r.frozen?.quantity)).toEqual([5]);
    expect((await storedRecords(file))[0]).toMatchObject({ state: 'duplicate', mayHaveLanded: false });
  });
});
