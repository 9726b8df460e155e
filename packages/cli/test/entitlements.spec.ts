import { createMetering, customerKey, isEntitlementStore, readableTime, silentLogger, SqliteStore, type CustomerIdentity, type EntitlementSet, type UsageDelta } from '@meterkit/core';
import { startEmulator } from '@meterkit/emulator';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src';
import { postgresBackend, sqliteBackend, type Backend, type CliResult } from './support/ledger';

const PRODUCT = 'prod-contract';
const LEGACY_PRODUCT = 'prod-legacy-contract';
const NOW = Date.parse('2026-07-15T10:42:00Z');
const MONTH = Date.parse('2026-07-01T00:00:00Z');
const JUNE = Date.parse('2026-06-01T00:00:00Z');
const EXPIRES = Date.parse('2027-07-01T00:00:00Z');
/** A string entitlement longer than a 120-column line. */
const LONG_PLAN = `enterprise-${'very-long-plan-name-'.repeat(6)}end`;
const ALICE_ARN = 'arn:aws:license-manager::123456789012:license:l-a11ce0000000000000000000000000001';
const BOB_ARN = 'arn:aws:license-manager::123456789012:license:l-b0b000000000000000000000000000002';

const alice: CustomerIdentity = { kind: 'license', licenseArn: ALICE_ARN, customerAwsAccountId: '111111111111', productCode: PRODUCT };
const bob: CustomerIdentity = { kind: 'license', licenseArn: BOB_ARN, customerAwsAccountId: '222222222222', productCode: PRODUCT };
const carol: CustomerIdentity = { kind: 'legacy', customerIdentifier: 'cust-carol', productCode: LEGACY_PRODUCT };

const usage = (who: CustomerIdentity, dimension: string, hour: number, quantity: number): UsageDelta => ({
  customer: who,
  customerKey: customerKey(who),
  productCode: who.productCode,
  dimension,
  hour,
  tagsKey: '',
  quantity,
});

/**
 * A real SQLite file (or PostgreSQL schema) as a contract app leaves it: alice (tenant-alice) holds seats and api_calls and used 130 api
 * calls this month (100 included), 40 last month; bob's contract ended (revoked); carol is a legacy customer with a
 * string entitlement and no tenant.
 */
async function fill(backend: Backend): Promise<void> {
  const store = backend.newStore();
  await store.open();
  if (!isEntitlementStore(store)) throw new Error(`the ${store.kind} store keeps no entitlements`);
  for (const [who, tenantId] of [[alice, 'tenant-alice'], [bob, 'tenant-bob'], [carol, undefined]] as const) {
    await store.putCustomer({ key: customerKey(who), identity: who, status: 'active', registeredAt: NOW - 86_400_000, updatedAt: NOW - 86_400_000, ...(tenantId === undefined ? {} : { tenantId }) });
  }
  const sets: EntitlementSet[] = [
    {
      customerKey: customerKey(alice),
      productCode: PRODUCT,
      entitlements: [
        { dimension: 'seats', value: 5, valueType: 'integer', expiresAt: EXPIRES },
        { dimension: 'api_calls', value: 100, valueType: 'integer', expiresAt: EXPIRES },
      ],
      fetchedAt: NOW - 12 * 60_000,
      trigger: 'event:4f1c9a2e-amended',
    },
    { customerKey: customerKey(bob), productCode: PRODUCT, entitlements: [], fetchedAt: NOW - 3 * 3_600_000, trigger: 'event:e-ended', revoked: true },
    {
      customerKey: customerKey(carol),
      productCode: LEGACY_PRODUCT,
      entitlements: [{ dimension: 'tier', value: LONG_PLAN, valueType: 'string' }],
      fetchedAt: NOW - 26 * 3_600_000,
      trigger: 'registration',
    },
  ];
  for (const set of sets) expect(await store.putEntitlements(set)).toBe(true);
  const use = (quantity: number, periodStart: number, included: number) => ({
    delta: usage(alice, 'api_calls', periodStart + 3_600_000, quantity),
    allowanceDimension: 'api_calls',
    periodStart,
    included,
  });
  await store.addUsageAboveIncluded([], [use(40, JUNE, 100)], 'batch-june');
  await store.addUsageAboveIncluded([usage(alice, 'seats_unused', MONTH, 1)], [use(90, MONTH, 100), use(40, MONTH, 100)], 'batch-july');
  // bob used some before his contract ended: the counter stays, the entitlement is gone.
  await store.addUsageAboveIncluded([], [{ delta: usage(bob, 'api_calls', MONTH, 7), allowanceDimension: 'api_calls', periodStart: MONTH, included: 50 }], 'batch-bob');
  await store.close();
}

async function runCli(argv: string[], flags: string[], now = NOW, env: Record<string, string> = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run([...flags, ...argv], { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env, clock: () => now });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe.each<[string, () => Backend]>([
  ['a real SQLite file', sqliteBackend],
  ['a PostgreSQL schema', postgresBackend],
])('meterkit entitlements on %s', (_name, newBackend) => {
  let backend: Backend;
  const cli = (argv: string[]): Promise<CliResult> => runCli(argv, backend.flags);

  beforeAll(async () => {
    backend = newBackend();
    await fill(backend);
  });
  afterAll(() => backend?.dispose());

  it('--json: every set with its refresh, values, expiry and the newest allowance counter per dimension', async () => {
    const { code, stdout } = await cli(['--json', 'entitlements']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      now: '2026-07-15T10:42:00.000Z',
      customers: 3,
      revoked: 1,
      newestRefreshAt: '2026-07-15T10:30:00.000Z',
      oldestRefreshAt: '2026-07-14T08:42:00.000Z',
    });
    expect(report.sets.map((s: { tenantId?: string; customerKey: string }) => s.tenantId ?? s.customerKey)).toEqual([
      'tenant-alice',
      'tenant-bob',
      customerKey(carol),
    ]);
    expect(report.sets[0]).toEqual({
      customerKey: customerKey(alice),
      productCode: PRODUCT,
      tenantId: 'tenant-alice',
      licenseArn: ALICE_ARN,
      customerAwsAccountId: '111111111111',
      fetchedAt: '2026-07-15T10:30:00.000Z',
      trigger: 'event:4f1c9a2e-amended',
      revoked: false,
      entitlements: [
        { dimension: 'seats', value: 5, valueType: 'integer', expiresAt: '2027-07-01T00:00:00.000Z' },
        { dimension: 'api_calls', value: 100, valueType: 'integer', expiresAt: '2027-07-01T00:00:00.000Z' },
      ],
      // 90 + 40 this month, 100 included: none left. June's counter is older and not shown.
      allowances: [{ dimension: 'api_calls', periodStart: '2026-07-01T00:00:00.000Z', used: 130, included: 100, left: 0 }],
    });
    expect(report.sets[1]).toMatchObject({ revoked: true, entitlements: [], allowances: [{ dimension: 'api_calls', used: 7, included: 0, left: 0 }] });
    expect(report.sets[2]).toMatchObject({ customerIdentifier: 'cust-carol', trigger: 'registration', allowances: [] });
    expect(report.sets[2].licenseArn).toBeUndefined();
  });

  it('tables fit 120 columns with readable times, the license id, the revoked set and the counters', async () => {
    const { code, stdout } = await cli(['entitlements']);
    expect(code).toBe(0);
    for (const line of stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(stdout).not.toContain('arn:aws:');
    expect(stdout).toContain('Contract customers: 3 (1 revoked)    now: 2026-07-15 10:42 UTC');
    expect(stdout).toContain('Newest refresh: 2026-07-15 10:30 UTC (12 min ago)    oldest: 2026-07-14 08:42 UTC (1 d 2 h ago)');
    expect(stdout).toContain('tenant-alice  l-a11ce0000000000000000000000000001  account 111111111111  prod-contract');
    expect(stdout).toContain('  refreshed 2026-07-15 10:30 UTC (12 min ago) by event:4f1c9a2e-amended\n');
    const lines = stdout.split('\n');
    const row = (start: string) => lines.find((line) => line.startsWith(start))!;
    expect(row('  seats ')).toMatch(new RegExp(`^  seats\\s+5\\s+${escape(readableTime(EXPIRES, NOW))}$`));
    expect(row('  api_calls ')).toMatch(new RegExp(`^  api_calls\\s+100\\s+${escape(readableTime(EXPIRES, NOW))}\\s+2026-07-01 00:00 UTC\\s+130\\s+0$`));
    expect(stdout).toContain('  refreshed 2026-07-15 07:42 UTC (3 h 0 min ago) by event:e-ended · REVOKED: the contract ended\n');
    expect(stdout).toMatch(/  api_calls\s+—\s+2026-07-01 00:00 UTC\s+7\s+0\n/);
    expect(stdout).toContain('(no tenant)  cust-carol  prod-legacy-contract');
    // No allowance counters: no counter columns. A long value is cut to fit.
    expect(stdout).toMatch(/\n  dimension\s+value\s+expires\n[- ]+\n  tier {7}enterprise-very-long-plan-name-[a-z-]+…\n/);

    const wide = (await cli(['entitlements', '--wide'])).stdout;
    expect(wide).toContain(`tenant-alice  ${ALICE_ARN}  account 111111111111`);
    expect(wide).toContain(`  tier       ${LONG_PLAN}\n`);
  });

  it('--customer takes a tenant id, a license ARN, a license id or a key; one that names nobody is an error', async () => {
    for (const customer of ['tenant-alice', ALICE_ARN, 'l-a11ce0000000000000000000000000001', customerKey(alice)]) {
      const report = JSON.parse((await cli(['--json', 'entitlements', '--customer', customer])).stdout);
      expect(report.sets.map((s: { customerKey: string }) => s.customerKey)).toEqual([customerKey(alice)]);
      expect(report).toMatchObject({ customers: 1, revoked: 0, newestRefreshAt: '2026-07-15T10:30:00.000Z', oldestRefreshAt: '2026-07-15T10:30:00.000Z' });
    }
    const unknown = await cli(['entitlements', '--customer', 'tenant-nobody']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('meterkit: --customer "tenant-nobody" is no customer key, license ARN, license id or tenant id in this store.\n');
    expect(unknown.stdout).toBe('');
  });
});

describe('meterkit entitlements with the products: counters of the current period', () => {
  let backend: Backend;
  let dir: string;
  let productsFile: string;
  const PRODUCTS = [
    { productCode: PRODUCT, pricing: 'contract-with-consumption', dimensions: ['api_calls'], entitlements: ['seats', 'api_calls'], included: { api_calls: { period: 'month' } } },
    { productCode: LEGACY_PRODUCT, pricing: 'contract', dimensions: [], entitlements: ['tier'], identity: 'legacy' },
  ];
  beforeAll(async () => {
    backend = sqliteBackend();
    await fill(backend);
    dir = mkdtempSync(join(tmpdir(), 'meterkit-cli-products-'));
    productsFile = join(dir, 'products.json');
    writeFileSync(productsFile, JSON.stringify(PRODUCTS));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await backend?.dispose();
  });
  const alices = async (argv: string[], now: number, env: Record<string, string> = {}) => {
    const result = await runCli(['--json', 'entitlements', '--customer', 'tenant-alice', ...argv], backend.flags, now, env);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout).sets[0].allowances;
  };

  it('in July: July\'s counter, named by its period', async () => {
    expect(await alices(['--products', productsFile], NOW)).toEqual([{ dimension: 'api_calls', period: 'month', periodStart: '2026-07-01T00:00:00.000Z', used: 130, included: 100, left: 0 }]);
  });

  it('in August, before any usage: nothing used, the whole quota left (without the products: July\'s counter, the newest)', async () => {
    const august = Date.parse('2026-08-02T09:00:00Z');
    const expected = [{ dimension: 'api_calls', period: 'month', periodStart: '2026-08-01T00:00:00.000Z', used: 0, included: 100, left: 100 }];
    expect(await alices(['--products', productsFile], august)).toEqual(expected);
    expect(await alices([], august, { METERKIT_PRODUCTS: JSON.stringify(PRODUCTS) })).toEqual(expected);
    const newest = [{ dimension: 'api_calls', periodStart: '2026-07-01T00:00:00.000Z', used: 130, included: 100, left: 0 }];
    expect(await alices([], august)).toEqual(newest);
    // Products written for flush, without `included`: the newest counter, as without products.
    expect(await alices([], august, { METERKIT_PRODUCTS: JSON.stringify([{ productCode: PRODUCT, dimensions: ['api_calls'] }]) })).toEqual(newest);
    const table = (await runCli(['entitlements', '--customer', 'tenant-alice', '--products', productsFile], backend.flags, august)).stdout;
    expect(table).toMatch(/\n  api_calls\s+100\s+2027-07-01 00:00 UTC \(in \d+ d \d+ h\)\s+2026-08-01 00:00 UTC\s+0\s+100\n/);
  });

  it('a products file that cannot be read is an error', async () => {
    const missing = await runCli(['entitlements', '--products', join(dir, 'nope.json')], backend.flags);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^meterkit: Cannot read .*nope\.json/);
  });
});

describe('meterkit entitlements on an empty or missing SQLite file', () => {
  const cli = runCli;

  it('an empty store says where entitlements come from; a missing file says where the CLI looked', async () => {
    const empty = sqliteBackend();
    try {
      const created = await cli(['entitlements'], [...empty.flags, '--create']);
      expect(created).toEqual({ code: 0, stdout: 'No entitlements stored: contract products read them from AWS when a buyer registers (see docs/contracts.md).\n', stderr: '' });
      expect(JSON.parse((await cli(['--json', 'entitlements'], empty.flags)).stdout)).toEqual({ now: '2026-07-15T10:42:00.000Z', customers: 0, revoked: 0, sets: [] });
    } finally {
      await empty.dispose();
    }
    const missing = await cli(['entitlements'], ['--store', 'sqlite:./no-such-dir/meterkit.db']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^meterkit: No SQLite store at .*no-such-dir\/meterkit\.db: check --store/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('meterkit entitlements after a real read from the emulator', () => {
  it('shows what the engine read with GetEntitlements and the counter its persist wrote; records hold only the part above the quota', async () => {
    const backend = sqliteBackend();
    const emu = await startEmulator({
      now: Date.parse('2026-07-15T10:05:00Z'),
      timeSource: () => 0,
      products: [{ productCode: PRODUCT, dimensions: ['api_calls'], pricing: 'contract-with-consumption', contractDimensions: ['seats', 'api_calls'] }],
    });
    const metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: ['api_calls'], pricing: 'contract-with-consumption', entitlements: ['seats', 'api_calls'], included: { api_calls: { period: 'month' } } }],
      store: new SqliteStore({ path: backend.flags[1]!.slice('sqlite:'.length) }),
      aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
    });
    try {
      const subscription = await emu.subscribe({ productCode: PRODUCT, contract: { dimensions: { seats: 5, api_calls: 100 } } });
      const buyer: CustomerIdentity = { kind: 'license', licenseArn: subscription.licenseArn!, customerAwsAccountId: subscription.accountId, productCode: PRODUCT };
      await metering.putCustomer({ identity: buyer, status: 'active', tenantId: 'tenant-umbrella' });
      await metering.refreshEntitlements(buyer);
      emu.clock.set(Date.parse('2026-07-15T10:06:00Z'));
      await metering.meter(buyer).record('api_calls', 130).commit();
      await metering.persist();
      const now = emu.clock.now();

      const report = JSON.parse((await runCli(['--json', 'entitlements'], backend.flags, now)).stdout);
      expect(report.sets).toEqual([
        {
          customerKey: customerKey(buyer),
          productCode: PRODUCT,
          tenantId: 'tenant-umbrella',
          licenseArn: subscription.licenseArn,
          customerAwsAccountId: subscription.accountId,
          fetchedAt: '2026-07-15T10:05:00.000Z',
          trigger: 'manual',
          revoked: false,
          entitlements: expect.arrayContaining([
            { dimension: 'seats', value: 5, valueType: 'integer', expiresAt: expect.stringMatching(/^2027-07-15T/) },
            { dimension: 'api_calls', value: 100, valueType: 'integer', expiresAt: expect.stringMatching(/^2027-07-15T/) },
          ]),
          allowances: [{ dimension: 'api_calls', periodStart: '2026-07-01T00:00:00.000Z', used: 130, included: 100, left: 0 }],
        },
      ]);
      expect(report.sets[0].entitlements).toHaveLength(2);
      const records = JSON.parse((await runCli(['--json', 'records'], backend.flags, now)).stdout);
      expect(records.map((r: { dimension: string; quantity: number }) => [r.dimension, r.quantity])).toEqual([['api_calls', 30]]);
    } finally {
      await metering.close();
      await emu.close();
      await backend.dispose();
    }
  });
});
