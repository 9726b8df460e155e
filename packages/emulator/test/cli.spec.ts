import { BatchMeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseContractSpec, parseDuration, parseProductSpec } from '../src/cli';
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
      ['node', 'meterkit-emulator', '--port', '0', '--products', file, '--product', 'p1:api,gb', '--product', 'old:seats:legacy', '--product', 'pc:api:contract-with-consumption=seats,tier', '--entitlement-page-size', '10', '--now', '2026-07-15T12:20:00Z', '--quiet', '--throttle-rate', '0'],
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
      { productCode: 'pc', dimensions: ['api'], identity: 'license', pricing: 'contract-with-consumption', contractDimensions: ['seats', 'tier'] },
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

  it('drives a contract buyer: subscribe --contract, amend --contract, entitlements, entitlement-settings, renew, expire', async () => {
    const sub = await run('subscribe', 'pc', '--contract', 'seats=10,tier=gold', '--duration-months', '1', '--auto-renew');
    expect(sub.contract).toMatchObject({ dimensions: { seats: 10, tier: 'gold' }, durationMonths: 1, autoRenew: true, status: 'active' });
    expect(await run('amend', sub.licenseArn, '--contract', 'seats=20')).toEqual({ ok: true });
    const rows = (await run('entitlements', 'pc')).filter((r: { licenseArn: string }) => r.licenseArn === sub.licenseArn);
    expect(rows.map((r: { dimension: string; value: unknown }) => [r.dimension, r.value])).toEqual([
      ['seats', { IntegerValue: 20 }],
      ['tier', { StringValue: 'gold' }],
    ]);
    await expect(run('amend', sub.licenseArn, '--contract', 'seats=5')).rejects.toThrow(/cannot go down/);
    expect(await run('entitlement-settings')).toEqual({ pageSize: 10, emptyPages: false, lagMs: 0, throttlePerSecond: 20 });
    expect(await run('entitlement-settings', '--empty-pages', '--lag', '1m', '--throttle-per-second', '5')).toEqual({ pageSize: 10, emptyPages: true, lagMs: 60_000, throttlePerSecond: 5 });
    expect((await run('entitlement-settings', '--no-empty-pages')).emptyPages).toBe(false);
    const renewed = await run('renew', sub.licenseArn, '--contract', 'seats=3');
    expect(renewed.contract.dimensions).toEqual({ seats: 3 });
    expect(await run('expire', sub.licenseArn)).toEqual({ ok: true });
    expect((await run('inspect', 'entitlements')).find((r: { licenseArn: string }) => r.licenseArn === sub.licenseArn).contractStatus).toBe('expired');
    await expect(run('subscribe', 'pc')).rejects.toThrow(/subscribe with a contract/);
    await run('reset');
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
    expect(parseProductSpec('c::contract=seats,admins')).toEqual({ productCode: 'c', dimensions: [], pricing: 'contract', contractDimensions: ['seats', 'admins'] });
    expect(parseProductSpec('c:api:legacy:contract-with-consumption=seats')).toEqual({
      productCode: 'c',
      dimensions: ['api'],
      identity: 'legacy',
      pricing: 'contract-with-consumption',
      contractDimensions: ['seats'],
    });
    expect(() => parseProductSpec('c:api:contract=seats:legacy')).toThrow(/expected/);
    expect(() => parseProductSpec('c:api:annual=seats')).toThrow(/expected/);
    expect(parseContractSpec('seats=10,gb=1.5,sso=true,tier=gold')).toEqual({ seats: 10, gb: 1.5, sso: true, tier: 'gold' });
    expect(() => parseContractSpec('seats')).toThrow(/dimension>=<value/);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('250')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });
});
