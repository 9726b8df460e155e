import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchMeterUsageCommand, MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { createMetering, hourOf, silentLogger, SqliteStore, type CustomerIdentity, type UsageStore } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { PostgresStore } from '@meterkit/store-postgres';
import { Pool } from 'pg';
import { randomBytes } from 'node:crypto';
import { run, type CliIo } from '../../src';

export const PRODUCT = 'prod-cli';
export const HOUR = 3_600_000;
export const PG_URL = process.env['METERKIT_TEST_PG_URL'] ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where a test's ledger lives: a SQLite file or a PostgreSQL schema. */
export interface Backend {
  readonly name: string;
  /** The --store (and --schema) flags. */
  readonly flags: string[];
  newStore(): UsageStore;
  dispose(): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'meterkit-cli-'));
  const file = join(dir, 'meterkit.db');
  return {
    name: 'sqlite',
    flags: ['--store', `sqlite:${file}`],
    newStore: () => new SqliteStore({ path: file }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function postgresBackend(): Backend {
  const schema = `mk_test_cli_${randomBytes(5).toString('hex')}`;
  return {
    name: 'postgres',
    flags: ['--store', PG_URL, '--schema', schema],
    newStore: () => new PostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 }),
    dispose: async () => {
      const admin = new Pool({ connectionString: PG_URL, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

/**
 * A ledger filled by a real flush to the emulator, three hours ago:
 *   bob api_calls 7 (3 h ago) → duplicate (another sender put 4 there first);  carol api_calls 9 at AWS only (unknown locally);
 *   alice api_calls 5 (2 h ago) → sent;  alice gb_processed 3 → rejected (the emulator's product lacks the dimension);
 *   bob gb_processed 2, 30 hours ago → rejected, past AWS's window;  dave api_calls 6 marked sent, absent at AWS.
 */
export interface Ledger {
  emu: Emulator;
  backend: Backend;
  hour: number;
  aliceHour: number;
  oldHour: number;
  alice: CustomerIdentity & { licenseArn: string };
  bob: CustomerIdentity & { licenseArn: string };
  carolArn: string;
  productsFile: string;
  io(clock?: () => number): CliIo & { out: string[]; err: string[] };
  cli(argv: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

export async function fillLedger(backend: Backend): Promise<Ledger> {
  const emu = await startEmulator({ products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }] });
  const license = async () => {
    const s = await emu.subscribe({ productCode: PRODUCT });
    return { kind: 'license' as const, licenseArn: s.licenseArn!, customerAwsAccountId: s.accountId, productCode: PRODUCT };
  };
  const [alice, bob, carol, dave] = [await license(), await license(), await license(), await license()];
  const now = Date.now();
  const hour = hourOf(now) - 3 * HOUR;
  const oldHour = hourOf(now) - 30 * HOUR;
  const aliceHour = hour + HOUR;
  let clock = hour + 5 * 60_000;
  const client = new MarketplaceMeteringClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: CREDENTIALS, maxAttempts: 1 });
  const direct = (who: typeof alice, quantity: number) =>
    client.send(
      new BatchMeterUsageCommand({
        UsageRecords: [{ Timestamp: new Date(hour), Dimension: 'api_calls', Quantity: quantity, LicenseArn: who.licenseArn, CustomerAWSAccountId: who.customerAwsAccountId }],
      }),
    );
  await direct(bob, 4);
  await direct(carol, 9);
  client.destroy();

  const store = backend.newStore();
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }],
    store,
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: CREDENTIALS },
    clock: () => clock,
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  for (const who of [alice, bob, dave]) await metering.putCustomer({ identity: who, status: 'active' });
  await metering.meter(bob).record('api_calls', 7).commit();
  clock = aliceHour + 5 * 60_000;
  await metering.meter(alice).record('api_calls', 5).record('gb_processed', 3).commit();
  clock = aliceHour + 15 * 60_000;
  await metering.flush();
  clock = now;
  await metering.flush();
  await metering.meter(dave).record('api_calls', 6).commit();
  clock = oldHour + 60_000;
  await metering.meter(bob).record('gb_processed', 2).commit();
  await metering.persist();
  await metering.close();

  // Settle by hand what no flush can produce here: an old rejection and a record AWS never received.
  const raw = backend.newStore();
  await raw.open();
  const claimed = await raw.claim({ now, dueBefore: hourOf(now) + HOUR, owner: 'planter', leaseMs: 60_000, limit: 10 });
  await raw.journal(claimed.map((r) => r.id), 'planter', now);
  await raw.settle(
    claimed.map((r) =>
      r.hour === oldHour
        ? { id: r.id, state: 'rejected' as const, reason: 'InvalidUsageDimensionException' }
        : { id: r.id, state: 'sent' as const, meteringRecordId: 'mr-never-at-aws' },
    ),
    'planter',
    now,
  );
  await raw.close();

  const dir = mkdtempSync(join(tmpdir(), 'meterkit-cli-products-'));
  const productsFile = join(dir, 'products.json');
  writeFileSync(productsFile, JSON.stringify([{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }]));

  const io = (ioClock?: () => number) => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
      ...(ioClock === undefined ? {} : { clock: ioClock }),
    };
  };
  return {
    emu,
    backend,
    hour,
    aliceHour,
    oldHour,
    alice,
    bob,
    carolArn: carol.licenseArn,
    productsFile,
    io,
    cli: async (argv) => {
      const streams = io();
      const code = await run([...backend.flags, ...argv], streams);
      return { code, stdout: streams.out.join(''), stderr: streams.err.join('') };
    },
    close: async () => {
      rmSync(dir, { recursive: true, force: true });
      await emu.close();
      await backend.dispose();
    },
  };
}
