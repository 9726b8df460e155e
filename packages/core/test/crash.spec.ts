import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import type { CustomerIdentity } from '../src';
import { at, identityOf } from './support/world';

const CHILD = join(__dirname, 'support', 'crash-child.js');

interface App {
  child: ChildProcess;
  output: Promise<string>;
  exited: Promise<number | null>;
}

function startApp(emu: Emulator, db: string, scenario: string, customers: CustomerIdentity[], extra: Record<string, string> = {}): App {
  const child = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      DB: db,
      ENDPOINT: emu.endpoint,
      OFFSET_MS: String(emu.clock.now() - Date.now()),
      SCENARIO: scenario,
      CUSTOMERS: JSON.stringify(customers),
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const output = new Promise<string>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text);
    });
    child.on('exit', () => resolve(text));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('crash drills: a killed app process loses nothing and bills nothing twice', () => {
  let emu: Emulator;
  let dir: string;
  let customers: CustomerIdentity[];
  const apps: App[] = [];

  beforeAll(() => {
    if (!existsSync(join(__dirname, '..', 'dist', 'index.js'))) throw new Error('crash drills run the built package: build @meterkit/core first');
  });

  beforeEach(async () => {
    emu = await startEmulator({ now: at('2026-07-15T10:20:00Z'), products: [{ productCode: 'prod-licensed', dimensions: ['api_calls', 'gb_processed'] }] });
    customers = [];
    for (let i = 0; i < 3; i++) customers.push(identityOf(await emu.subscribe({ productCode: 'prod-licensed' })));
    dir = mkdtempSync(join(tmpdir(), 'meterkit-crash-'));
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) app.child.kill('SIGKILL');
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function expectExactTotals(): void {
    for (const customer of customers) {
      const licenseArn = (customer as { licenseArn: string }).licenseArn;
      expect(emu.inspect.totalFor({ licenseArn, dimension: 'api_calls' })).toBe(50);
      expect(emu.inspect.totalFor({ licenseArn, dimension: 'gb_processed' })).toBe(150);
    }
    expect(emu.inspect.records()).toHaveLength(6);
    expect(emu.inspect.duplicates()).toEqual([]);
  }

  async function flushInNewProcess(db: string): Promise<string> {
    const app = startApp(emu, db, 'flush', customers);
    apps.push(app);
    expect(await app.exited).toBe(0);
    return app.output;
  }

  it.each(['interval', 'sync'])('usage persisted before a SIGKILL (%s durability) is sent in full after restart', async (durability) => {
    const db = join(dir, 'usage.db');
    const recorder = startApp(emu, db, 'record', customers, { DURABILITY: durability });
    apps.push(recorder);
    expect(await recorder.output).toBe('recorded\n');
    recorder.child.kill('SIGKILL');
    await recorder.exited;

    emu.clock.set(at('2026-07-15T11:30:00Z'));
    expect(await flushInNewProcess(db)).toContain('"sent":6');
    expectExactTotals();
  });

  it('a process killed between send and answer is resent identically after restart: no DuplicateRecord, no double count', async () => {
    const db = join(dir, 'usage.db');
    const recorder = startApp(emu, db, 'record', customers);
    apps.push(recorder);
    await recorder.output;
    recorder.child.kill('SIGKILL');
    await recorder.exited;

    emu.clock.set(at('2026-07-15T11:30:00Z'));
    emu.faults.set({ latencyMs: 400 });
    const sender = startApp(emu, db, 'flush', customers);
    apps.push(sender);
    await waitFor(() => emu.inspect.calls('BatchMeterUsage').length > 0 || emu.inspect.records().length > 0);
    sender.child.kill('SIGKILL');
    await sender.exited;
    await waitFor(() => emu.inspect.records().length === 6);
    emu.faults.reset();

    emu.clock.advance(30_000);
    expect(await flushInNewProcess(db)).toContain('"claimed":0');
    emu.clock.advance(60_000);
    const output = await flushInNewProcess(db);
    expect(output).toContain('"sent":6');
    expect(output).toContain('"duplicate":0');
    expectExactTotals();
    expect(emu.inspect.calls('BatchMeterUsage').filter((c) => c.status === 200).length).toBeGreaterThanOrEqual(2);
  });
});
