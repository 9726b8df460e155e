import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { utcMinute } from '@meterkit/core';
import { run } from '../src';
import { fillLedger, postgresBackend, sqliteBackend, type Backend, type Ledger } from './support/ledger';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const iso = (ms: number) => new Date(ms).toISOString();

/** A minimal RFC 4180 reader, independent of the writer under test. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  return rows;
}

describe.each<[string, () => Backend]>([
  ['SQLite file', sqliteBackend],
  ['PostgreSQL schema', postgresBackend],
])('meterkit CLI on a %s filled by a real flush to the emulator', (_name, backend) => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await fillLedger(backend());
  }, 30_000);
  afterAll(() => ledger?.close());

  it('status: pending hours with window headroom, last send, counts per state, customers per status', async () => {
    const { code, stdout } = await ledger.cli(['--json', 'status']);
    expect(code).toBe(0);
    const status = JSON.parse(stdout);
    expect(status.counts).toMatchObject({ sent: 2, duplicate: 1, rejected: 2, pending: 0, open: 0 });
    expect(status.customers).toEqual({ active: 3 });
    expect(Date.parse(status.lastSuccessfulSendAt)).toBeGreaterThan(ledger.aliceHour);
    expect(status.pending).toEqual([]);

    const human = await ledger.cli(['status']);
    expect(human.stdout).toContain(`Last successful send: ${utcMinute(status.lastSuccessfulSendAt)} (`);
    expect(human.stdout).toMatch(/rejected\s+2/);
  });

  it('records: filters by state, customer, dimension and hours; rejected ones carry the AWS exception and the fix', async () => {
    const rejected = JSON.parse((await ledger.cli(['records', '--state', 'rejected', '--json'])).stdout);
    expect(rejected.map((r: { dimension: string; hour: string }) => [r.dimension, r.hour])).toEqual([
      ['gb_processed', iso(ledger.oldHour)],
      ['gb_processed', iso(ledger.aliceHour)],
    ]);
    expect(rejected[1]).toMatchObject({ quantity: 3, reason: 'InvalidUsageDimensionException', awsException: 'InvalidUsageDimensionException', licenseArn: ledger.alice.licenseArn });
    expect(rejected[1].fix).toMatch(/Add the dimension/);

    const alices = JSON.parse((await ledger.cli(['--json', 'records', '--customer', ledger.alice.licenseArn, '--dimension', 'api_calls'])).stdout);
    expect(alices).toHaveLength(1);
    expect(alices[0]).toMatchObject({ state: 'sent', quantity: 5 });
    expect(alices[0].meteringRecordId).toBe(ledger.emu.inspect.records().find((r) => r.licenseArn === ledger.alice.licenseArn)!.meteringRecordId);

    const hourOnly = JSON.parse((await ledger.cli(['records', '--json', '--from', iso(ledger.hour), '--to', iso(ledger.hour + 3_600_000)])).stdout);
    expect(hourOnly.map((r: { state: string }) => r.state)).toEqual(['duplicate']);

    const table = (await ledger.cli(['records', '--state', 'duplicate'])).stdout;
    expect(table).toContain('DuplicateRecord');
    expect(table).toMatch(/Reasons[\s\S]*find the other\s+sender/);
    expect((await ledger.cli(['records', '--state', 'lost'])).code).toBe(2);
  });

  it('records: fit 120 columns with a tenant column and the license id and account for the ARN; --wide shows every value in full', async () => {
    const store = ledger.backend.newStore();
    await store.open();
    const alice = (await store.getCustomer(`license:${ledger.alice.licenseArn}`))!;
    await store.putCustomer({ ...alice, tenantId: 'tenant-alice' });
    await store.close();
    const licenseId = ledger.alice.licenseArn.slice(ledger.alice.licenseArn.lastIndexOf(':') + 1);
    expect(licenseId).toMatch(/^l-[0-9a-f]{32}$/);

    const { code, stdout } = await ledger.cli(['records']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(lines[0]).toMatch(/^hour\s+tenant\s+account\s+customer\s+dimension\s+quantity\s+state\s+reason$/);
    expect(stdout).not.toContain('arn:aws:');
    const aliceRows = lines.filter((line) => line.includes('tenant-alice'));
    expect(aliceRows).toHaveLength(2);
    for (const row of aliceRows) {
      expect(row).toContain(ledger.alice.customerAwsAccountId);
      expect(row).toContain(licenseId.slice(0, 10));
    }
    expect(aliceRows.find((row) => row.includes('rejected'))).toMatch(/InvalidUsageDim/);

    expect(stdout).toMatch(/Reasons\nInvalidUsageDimensionException \(AWS: InvalidUsageDimensionException\)\n  Add the dimension/);

    const wide = (await ledger.cli(['records', '--wide'])).stdout;
    expect(wide.split('\n')[0]).toMatch(/^hour\s+tenant\s+account\s+customer\s+dimension\s+quantity\s+state\s+reason\s+record id$/);
    const wideAlice = wide.split('\n').filter((line) => line.includes('tenant-alice'));
    expect(wideAlice).toHaveLength(2);
    const sentId = ledger.emu.inspect.records().find((r) => r.licenseArn === ledger.alice.licenseArn)!.meteringRecordId;
    expect(wideAlice.find((row) => row.includes(' sent '))).toContain(sentId);
    for (const row of wideAlice) expect(row).toContain(ledger.alice.licenseArn);

    const json = JSON.parse((await ledger.cli(['records', '--json', '--customer', ledger.alice.licenseArn])).stdout);
    expect(json.map((r: { tenantId?: string }) => r.tenantId)).toEqual(['tenant-alice', 'tenant-alice']);
  });

  it('export: CSV with a header and RFC 4180 quoting, and JSON lines, to stdout or a file', async () => {
    const csv = (await ledger.cli(['export', '--from', iso(ledger.hour), '--to', iso(ledger.aliceHour + 3_600_000)])).stdout;
    const [header, ...rows] = parseCsv(csv);
    expect(header).toEqual(['hour', 'license_arn', 'customer_identifier', 'customer_aws_account_id', 'product_code', 'dimension', 'quantity', 'metering_record_id', 'state', 'sent_at', 'reason']);
    const sent = rows.find((r) => r[8] === 'sent')!;
    expect(sent.slice(0, 9)).toEqual([
      iso(ledger.aliceHour),
      ledger.alice.licenseArn,
      '',
      ledger.alice.customerAwsAccountId,
      'prod-cli',
      'api_calls',
      '5',
      ledger.emu.inspect.records().find((r) => r.licenseArn === ledger.alice.licenseArn)!.meteringRecordId,
      'sent',
    ]);
    expect(rows.map((r) => r[8]).sort()).toEqual(['duplicate', 'rejected', 'sent']);

    const dir = mkdtempSync(join(tmpdir(), 'meterkit-export-'));
    try {
      const out = join(dir, 'ledger.jsonl');
      expect((await ledger.cli(['export', '--format', 'jsonl', '--out', out])).code).toBe(0);
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(5);
      expect(lines.find((l) => l.state === 'duplicate')).toMatchObject({ license_arn: ledger.bob.licenseArn, quantity: 7, sent_at: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reconcile --emulator: lists every hour where the ledger and AWS differ, exit code 1', async () => {
    const { code, stdout } = await ledger.cli(['--json', 'reconcile', '--emulator', ledger.emu.endpoint, '--from', iso(ledger.oldHour), '--to', iso(Date.now() + 3_600_000)]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    const kinds = report.differences.map((d: { kind: string; customerKey: string; unbilled: number }) => [d.kind, d.customerKey, d.unbilled]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['duplicate-different-quantity', `license:${ledger.bob.licenseArn}`, 3],
        ['unknown-locally', `license:${ledger.carolArn}`, -9],
        ['missing-at-aws', expect.stringMatching(/^license:/), 6],
      ]),
    );
    expect(kinds).toHaveLength(3);
    const human = await ledger.cli(['reconcile', '--emulator', ledger.emu.endpoint, '--from', iso(ledger.oldHour), '--to', iso(Date.now() + 3_600_000)]);
    expect(human.stdout).toContain(`3 difference(s) in 2 hour(s)`);
    expect(human.stdout).toContain(iso(ledger.hour));
    for (const line of human.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(human.stdout).not.toContain('arn:aws:');
    expect(human.stdout).toContain(ledger.bob.licenseArn.slice(ledger.bob.licenseArn.lastIndexOf(':') + 1, ledger.bob.licenseArn.lastIndexOf(':') + 11));
    const wide = await ledger.cli(['reconcile', '--wide', '--emulator', ledger.emu.endpoint, '--from', iso(ledger.oldHour), '--to', iso(Date.now() + 3_600_000)]);
    expect(wide.stdout).toContain(`license:${ledger.bob.licenseArn}`);
  });

  it('redrive: refuses records past AWS’s window, puts the others back; after the product fix a flush gets them accepted', async () => {
    const before = ledger.emu.inspect.totalFor({ licenseArn: ledger.alice.licenseArn, dimension: 'gb_processed' });
    expect(before).toBe(0);
    ledger.emu.addProduct({ productCode: 'prod-cli', dimensions: ['api_calls', 'gb_processed'] });

    const refusedOnly = await ledger.cli(['redrive', '--from', iso(ledger.oldHour), '--to', iso(ledger.oldHour + 3_600_000)]);
    expect(refusedOnly.code).toBe(1);
    expect(refusedOnly.stdout).toMatch(/^Refused \(window passed\):\nhour\s+tenant\s+account\s+customer\s+/);
    for (const line of refusedOnly.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(refusedOnly.stdout).not.toContain('arn:aws:');
    expect((await ledger.cli(['redrive', '--wide', '--from', iso(ledger.oldHour), '--to', iso(ledger.oldHour + 3_600_000)])).stdout).toContain(ledger.bob.licenseArn);
    const redrive = await ledger.cli(['--json', 'redrive']);
    expect(redrive.code).toBe(1);
    const result = JSON.parse(redrive.stdout);
    expect(result.redriven.map((r: { hour: string; dimension: string }) => [r.hour, r.dimension])).toEqual([[iso(ledger.aliceHour), 'gb_processed']]);
    expect(result.refused.map((r: { hour: string }) => r.hour)).toEqual([iso(ledger.oldHour)]);
    expect(redrive.stderr).toMatch(/Refused 1 record\(s\): their hour can no longer make AWS's window/);

    const preview = JSON.parse((await ledger.cli(['--json', 'flush', '--dry-run'])).stdout);
    expect(preview.due.map((r: { dimension: string; quantity: number }) => [r.dimension, r.quantity])).toEqual([['gb_processed', 3]]);
    const previewTable = (await ledger.cli(['flush', '--dry-run'])).stdout;
    expect(previewTable).toMatch(/^Dry run: a flush now would send 1 record\(s\):\nhour\s+account\s+customer\s+dimension\s+quantity\s+state\n/);
    for (const line of previewTable.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(previewTable).not.toContain('arn:aws:');
    expect((await ledger.cli(['flush', '--dry-run', '--wide'])).stdout).toContain(ledger.alice.licenseArn);
    expect(ledger.emu.inspect.totalFor({ licenseArn: ledger.alice.licenseArn, dimension: 'gb_processed' })).toBe(0);

    const flush = await ledger.cli(['flush', '--products', ledger.productsFile, '--endpoint', ledger.emu.endpoint]);
    expect(flush.stderr).toBe('');
    expect(flush.code).toBe(0);
    expect(flush.stdout).toContain('1 claimed in 1 call(s): 1 sent, 0 rejected');
    expect(ledger.emu.inspect.totalFor({ licenseArn: ledger.alice.licenseArn, dimension: 'gb_processed' })).toBe(3);
    const after = JSON.parse((await ledger.cli(['--json', 'records', '--customer', ledger.alice.licenseArn, '--dimension', 'gb_processed'])).stdout);
    expect(after[0]).toMatchObject({ state: 'sent', quantity: 3 });
    expect(after[0].reason).toBeUndefined();

    const nothing = await ledger.cli(['redrive', '--customer', ledger.alice.licenseArn]);
    expect(nothing.stderr).toContain('nothing to redrive');
  });
});

describe('meterkit CLI: errors and the built bin', () => {
  let backend: Backend;
  let ledger: Ledger;
  beforeAll(async () => {
    backend = sqliteBackend();
    ledger = await fillLedger(backend);
  }, 30_000);
  afterAll(() => ledger?.close());

  it('runs the built bin as a process: status --json and reconcile exit codes', async () => {
    const bin = join(__dirname, '..', 'bin', 'meterkit.js');
    const exec = promisify(execFile);
    const env = { ...process.env, METERKIT_STORE: backend.flags[1]!, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const { stdout } = await exec(process.execPath, [bin, 'status', '--json'], { env });
    expect(JSON.parse(stdout).counts.sent).toBe(2);
    const failed = await exec(process.execPath, [bin, 'reconcile', '--emulator', ledger.emu.endpoint, '--from', iso(ledger.oldHour), '--to', iso(Date.now() + 3_600_000)], { env }).catch((e: { code: number; stdout: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stdout: string }).stdout).toContain('missing-at-aws');
  });

  it("a command's --help lists the global options too (--store, --schema, --create, --json)", async () => {
    const io = ledger.io();
    expect(await run(['records', '--help'], io)).toBe(0);
    const help = io.out.join('');
    expect(help).toMatch(/Global Options:[\s\S]*--store <store>[\s\S]*--create[\s\S]*--json/);
  });

  it('refuses with a clear message: unknown store scheme, missing products, both reconcile sources', async () => {
    const io = ledger.io();
    expect(await run(['status', '--store', 'mysql://x'], io)).toBe(2);
    expect(io.err.join('')).toContain('--store must be sqlite:<file> or postgres://');
    expect(await ledger.cli(['flush'])).toMatchObject({ code: 2, stderr: expect.stringContaining('METERKIT_PRODUCTS') });
    expect(await ledger.cli(['reconcile'])).toMatchObject({ code: 2, stderr: expect.stringContaining('exactly one of') });
  });
});
