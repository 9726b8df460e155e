import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerKey } from '../src';
import { licenseIdentity } from '../src/store/conformance/fixtures';
import { withRawSqlite } from './support/raw-sqlite';

const CHILD = join(__dirname, 'support', 'sync-crash-child.js');
const CUSTOMERS = Array.from({ length: 20 }, (_, i) => licenseIdentity(i));
/** Requests in flight in the child at any time: at most this many units can be stored and never answered. */
const CONCURRENCY = 50;
/** The child is killed once this many answers reached the test, with CONCURRENCY commits under way. */
const KILL_AFTER = 1500;

interface Run {
  /** SQLite's synchronous setting the child's store applied (1 NORMAL, 2 FULL). */
  readonly synchronous: number;
  /** Answered commits per customer index: every line the child wrote before it died. */
  readonly answered: number[];
}

/** Runs the child until KILL_AFTER answers arrived, kills it with SIGKILL, and reads everything it wrote. */
function runAndKill(db: string, synchronous: string | undefined): Promise<Run> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, DB: db, CUSTOMERS: JSON.stringify(CUSTOMERS), CONCURRENCY: String(CONCURRENCY), ...(synchronous ? { SYNCHRONOUS: synchronous } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const answered = CUSTOMERS.map(() => 0);
  let setting = -1;
  let total = 0;
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('synchronous ')) setting = Number(line.slice('synchronous '.length));
      else answered[Number(line)]! += 1;
      total++;
    }
    if (total >= KILL_AFTER) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close': the process is gone and its output read to the end.
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the child ended with ${code ?? signal} before it was killed`));
      else resolve({ synchronous: setting, answered });
    });
  });
}

describe('sync durability on SQLite: a process killed while commits are under way', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(join(__dirname, '..', 'dist', 'index.js'))) throw new Error('crash drills run the built package: build @meterkit/core first');
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meterkit-sync-crash-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['normal (the default)', undefined, 1],
    ['full', 'full', 2],
  ])('keeps every answered commit in the file, synchronous %s', async (_name, synchronous, expectedSetting) => {
    const db = join(dir, 'usage.db');
    const run = await runAndKill(db, synchronous);
    expect(run.synchronous).toBe(expectedSetting);

    const stored = withRawSqlite(db, (raw) =>
      raw.prepare('SELECT customer_key AS key, sum(quantity) AS units FROM usage_records GROUP BY customer_key').all(),
    ) as Array<{ key: string; units: number }>;
    const units = new Map(stored.map((row) => [row.key, row.units]));
    const answered = run.answered.reduce((sum, n) => sum + n, 0);
    expect(answered).toBeGreaterThanOrEqual(KILL_AFTER - 1);
    const short = CUSTOMERS.map((customer, i) => ({ customer: i, answered: run.answered[i]!, stored: units.get(customerKey(customer)) ?? 0 })).filter(
      (row) => row.stored < row.answered,
    );
    expect(short).toEqual([]);
    // Stored but never answered: only the commits under way when the kill landed.
    const total = [...units.values()].reduce((sum, n) => sum + n, 0);
    expect(total - answered).toBeLessThanOrEqual(CONCURRENCY);
  });
});
