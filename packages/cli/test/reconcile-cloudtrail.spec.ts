import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerKey, SqliteStore, tagsKey, type CustomerIdentity, type TerminalState } from '@meterkit/core';
import { parseCloudTrail, run } from '../src';
import { csvLine } from '../src/format/csv';

const FIXTURE = join(__dirname, 'fixtures', 'cloudtrail-batchmeterusage.json');
const H10 = Date.UTC(2026, 6, 15, 10);
const H11 = Date.UTC(2026, 6, 15, 11);
const aaaa: CustomerIdentity = { kind: 'license', licenseArn: 'arn:aws:license-manager::294406891311:license:l-aaaa', customerAwsAccountId: '111122223333', productCode: 'prod-licensed' };
const dddd: CustomerIdentity = { kind: 'license', licenseArn: 'arn:aws:license-manager::294406891311:license:l-dddd', customerAwsAccountId: '222233334444', productCode: 'prod-licensed' };
const legacy: CustomerIdentity = { kind: 'legacy', productCode: 'prod-legacy', customerIdentifier: 'cust-1' };

describe('reconcile against a CloudTrail lookup-events export', () => {
  it('reads BatchMeterUsage results, skipping failed calls and other events; keys match the ledger', () => {
    const records = parseCloudTrail(readFileSync(FIXTURE, 'utf8'));
    expect(records.map((r) => [r.customerKey, r.dimension, new Date(r.hour).toISOString(), r.quantity, r.status])).toEqual([
      [customerKey(aaaa), 'api_calls', '2026-07-15T10:00:00.000Z', 5, 'Success'],
      [customerKey(aaaa), 'gb_processed', '2026-07-15T10:00:00.000Z', 2, 'Success'],
      [customerKey(legacy), 'api_calls', '2026-07-15T10:00:00.000Z', 4, 'DuplicateRecord'],
      ['license:arn:aws:license-manager::294406891311:license:l-cccc', 'api_calls', '2026-07-15T11:00:00.000Z', 9, 'Success'],
    ]);
  });

  it('finds the planted differences in a SQLite ledger and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meterkit-ct-'));
    const path = join(dir, 'ledger.db');
    const store = new SqliteStore({ path });
    await store.open();
    const settle = async (who: CustomerIdentity, dimension: string, hour: number, quantity: number, state: TerminalState) => {
      await store.addUsage([{ customer: who, customerKey: customerKey(who), productCode: who.productCode, dimension, hour, tagsKey: tagsKey(undefined), quantity }]);
      const claimed = await store.claim({ now: H11 + 7_200_000, dueBefore: H11 + 3_600_000, owner: 'o', leaseMs: 60_000, limit: 10 });
      await store.settle(claimed.map((r) => ({ id: r.id, state, ...(state === 'sent' ? { meteringRecordId: 'x' } : {}) })), 'o', H11);
    };
    await settle(aaaa, 'api_calls', H10, 5, 'sent'); // matches
    await settle(aaaa, 'gb_processed', H10, 3, 'sent'); // AWS holds 2
    await settle(legacy, 'api_calls', H10, 6, 'duplicate'); // AWS refused 4 as DuplicateRecord: another quantity is held
    await settle(dddd, 'api_calls', H11, 8, 'sent'); // AWS has nothing
    await store.close();
    try {
      const out: string[] = [];
      const io = { stdout: (t: string) => void out.push(t), stderr: () => undefined };
      const code = await run(['--store', `sqlite:${path}`, '--json', 'reconcile', '--cloudtrail', FIXTURE], io);
      expect(code).toBe(1);
      const report = JSON.parse(out.join(''));
      expect(report).toMatchObject({ from: '2026-07-15T10:00:00.000Z', to: '2026-07-15T12:00:00.000Z', ledgerRecords: 4, awsRecords: 4 });
      expect(report.differences.map((d: { kind: string; hour: string; dimension: string; unbilled: number }) => [d.hour, d.kind, d.dimension, d.unbilled])).toEqual([
        ['2026-07-15T10:00:00.000Z', 'duplicate-different-quantity', 'api_calls', 6],
        ['2026-07-15T10:00:00.000Z', 'quantity-mismatch', 'gb_processed', 1],
        ['2026-07-15T11:00:00.000Z', 'unknown-locally', 'api_calls', -9],
        ['2026-07-15T11:00:00.000Z', 'missing-at-aws', 'api_calls', 8],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CSV escaping', () => {
  it('quotes commas, quotes, line breaks and edge spaces; doubles quotes; leaves plain values alone', () => {
    expect(csvLine(['a,b', 'say "hi"', 'two\nlines', ' padded', 'plain', 42, undefined])).toBe('"a,b","say ""hi""","two\nlines"," padded",plain,42,\r\n');
  });
});
