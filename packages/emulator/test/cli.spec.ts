import { BatchMeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseDuration, parseProductSpec } from '../src/cli';
import type { Emulator } from '../src';
import { clientFor } from './helpers';

describe('meterkit-emulator CLI', () => {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
  let emu: Emulator;
  let dir: string;
  const run = async (...args: string[]) => {
    lines.length = 0;
    await main(['node', 'meterkit-emulator', ...args, '--url', emu.endpoint], io);
    return JSON.parse(lines.join('\n'));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mk-emu-'));
    const file = join(dir, 'products.json');
    writeFileSync(file, JSON.stringify({ products: [{ productCode: 'from-file', dimensions: ['a'] }] }));
    emu = (await main(
      ['node', 'meterkit-emulator', '--port', '0', '--products', file, '--product', 'p1:api,gb', '--product', 'old:seats:legacy', '--now', '2026-07-15T12:20:00Z', '--quiet', '--throttle-rate', '0'],
      io,
    )) as Emulator;
  });
  afterAll(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints where it listens and loads products from a file and flags', () => {
    expect(lines[0]).toBe(`meterkit emulator listening on ${emu.endpoint} (region us-east-1)`);
    expect(emu.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.products()).toEqual([
      { productCode: 'from-file', dimensions: ['a'], identity: 'license', pricing: 'subscription', contractDimensions: [] },
      { productCode: 'p1', dimensions: ['api', 'gb'], identity: 'license', pricing: 'subscription', contractDimensions: [] },
      { productCode: 'old', dimensions: ['seats'], identity: 'legacy', pricing: 'subscription', contractDimensions: [] },
    ]);
    expect(new Date(emu.clock.now()).toISOString()).toMatch(/^2026-07-15T12:2/);
  });

  it('subscribes, moves the clock, inspects totals and cancels through the admin API', async () => {
    const sub = await run('subscribe', 'p1', '--account-id', '222222222222');
    expect(sub).toMatchObject({ productCode: 'p1', accountId: '222222222222', licenseArn: expect.any(String) });
    await clientFor(emu).send(
      new BatchMeterUsageCommand({
        UsageRecords: [{ Timestamp: new Date(Date.UTC(2026, 6, 15, 11)), Dimension: 'api', Quantity: 6, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn }],
      }),
    );
    expect(await run('totals')).toEqual([expect.objectContaining({ licenseArn: sub.licenseArn, quantity: 6 })]);
    expect(await run('records')).toEqual([expect.objectContaining({ licenseArn: sub.licenseArn, dimension: 'api', quantity: 6, meteringRecordId: expect.any(String) })]);
    expect((await run('inspect', 'summary')).operations.BatchMeterUsage.records).toBe(1);
    const before = emu.clock.now();
    const clock = await run('clock', '--advance', '2h');
    expect(clock.now - before).toBeGreaterThanOrEqual(7_200_000);
    await run('fail-next', 'BatchMeterUsage', 'ThrottlingException', '2');
    await expect(clientFor(emu).send(new BatchMeterUsageCommand({ UsageRecords: [] }))).rejects.toThrow();
    expect((await run('faults', '--throttle-rate', '0.5')).throttleRate).toBe(0.5);
    expect((await run('faults', '--reset')).throttleRate).toBe(0);
    expect(await run('cancel', sub.licenseArn)).toEqual({ ok: true });
    expect((await run('inspect', 'buyers')).find((b: { licenseArn?: string }) => b.licenseArn === sub.licenseArn).status).toBe('deprovisioned');
    expect(await run('reset')).toEqual({ ok: true });
    expect(await run('totals')).toEqual([]);
  });

  it('takes -u/--url before or after the command, as the README shows', async () => {
    const runWith = async (...args: string[]) => {
      lines.length = 0;
      await main(['node', 'meterkit-emulator', ...args], io);
      return JSON.parse(lines.join('\n'));
    };
    const before = await runWith('-u', emu.endpoint, 'subscribe', 'p1', '--account-id', '333333333333');
    expect(before).toMatchObject({ productCode: 'p1', accountId: '333333333333' });
    const after = await runWith('subscribe', 'p1', '-u', emu.endpoint, '--account-id', '444444444444');
    expect(after).toMatchObject({ productCode: 'p1', accountId: '444444444444' });
    expect((await runWith('--url', emu.endpoint, 'inspect', 'buyers')).map((b: { accountId: string }) => b.accountId)).toEqual(
      expect.arrayContaining(['333333333333', '444444444444']),
    );
    expect(await runWith('--url', emu.endpoint, 'reset')).toEqual({ ok: true });
  });

  it('parses product specs and durations', () => {
    expect(parseProductSpec('x:a,b:legacy')).toEqual({ productCode: 'x', dimensions: ['a', 'b'], identity: 'legacy' });
    expect(() => parseProductSpec('x')).toThrow(/expected/);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });
});
