import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, isMeterkitError } from '../../src/errors';
import { SqliteStore } from '../../src/store/sqlite';
import { FORGET_EVERY_WRITES, FORGET_LIMIT } from '../../src/store/sqlite/batch-ids';
import { BATCH_ID_RETENTION_MS } from '../../src/store/usage-store';
import { delta, licenseIdentity } from '../../src/store/conformance/fixtures';
import { withRawSqlite } from '../support/raw-sqlite';

describe('SqliteStore durability settings', () => {
  let directory: string;
  const opened: SqliteStore[] = [];

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-durability-'));
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    jest.restoreAllMocks();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  async function openStore(options: ConstructorParameters<typeof SqliteStore>[0]): Promise<SqliteStore> {
    const store = new SqliteStore(options);
    opened.push(store);
    await store.open();
    return store;
  }

  /** The synchronous settings the store applied to its connection, as SQLite pragmas. */
  async function synchronousApplied(options: ConstructorParameters<typeof SqliteStore>[0]): Promise<string[]> {
    const pragma = jest.spyOn(Database.prototype, 'pragma');
    await openStore(options);
    return pragma.mock.calls.map(([source]) => source).filter((source) => source.startsWith('synchronous'));
  }

  it('commits with synchronous = NORMAL by default: in the log when it returns, no fsync per transaction', async () => {
    await expect(synchronousApplied({ path: path.join(directory, 'a.db') })).resolves.toEqual(['synchronous = NORMAL']);
  });

  it("syncs every commit with synchronous: 'full'", async () => {
    await expect(synchronousApplied({ path: path.join(directory, 'a.db'), synchronous: 'full' })).resolves.toEqual(['synchronous = FULL']);
  });

  it('applies the default to a connection it is given', async () => {
    const db = new Database(path.join(directory, 'given.db'));
    try {
      db.pragma('synchronous = FULL');
      await openStore(db);
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });

  it('refuses another synchronous setting with ERR_METERKIT_OPTIONS', () => {
    let error: unknown;
    try {
      new SqliteStore({ synchronous: 'off' as never });
    } catch (caught) {
      error = caught;
    }
    expect(isMeterkitError(error, ErrorCodes.OPTIONS)).toBe(true);
    expect((error as Error).message).toContain("'normal' or 'full'");
  });
});

describe('SqliteStore checkpoints', () => {
  let directory: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-checkpoints-'));
  });

  afterEach(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const PAGE = 4096;

  /** Writes 40 persist-sized batches of new records and answers the largest the write-ahead log file grew, in pages. */
  async function logPagesAfterWrites(options: ConstructorParameters<typeof SqliteStore>[0]): Promise<number> {
    const store = new SqliteStore(options);
    await store.open();
    const file = `${typeof options === 'object' && 'path' in options ? options.path : ''}-wal`;
    try {
      for (let batch = 0; batch < 40; batch++) {
        const deltas = Array.from({ length: 100 }, (_, i) => delta({ customer: licenseIdentity(batch * 100 + i) }));
        await store.addUsage(deltas, `batch-${batch}`);
      }
      // The log file keeps the size it grew to when a checkpoint lets it start over: its size is its high-water mark.
      return fs.statSync(file).size / PAGE;
    } finally {
      await store.close();
    }
  }

  it('checkpoints the log every 200 pages by default, so that no commit copies more than that on the event loop', async () => {
    const pages = await logPagesAfterWrites({ path: path.join(directory, 'default.db') });
    // 200 pages and the commit that crossed them.
    expect(pages).toBeLessThan(400);
  });

  it('takes checkpointPages, and SQLite lets the log grow to it', async () => {
    const pages = await logPagesAfterWrites({ path: path.join(directory, 'large.db'), checkpointPages: 1000 });
    expect(pages).toBeGreaterThan(400);
  });

  it.each([0, -1, 1.5, 100_001, '200'])('refuses checkpointPages %p with ERR_METERKIT_OPTIONS', (checkpointPages) => {
    let error: unknown;
    try {
      new SqliteStore({ checkpointPages: checkpointPages as number });
    } catch (caught) {
      error = caught;
    }
    expect(isMeterkitError(error, ErrorCodes.OPTIONS)).toBe(true);
    expect((error as Error).message).toContain('checkpointPages must be a whole number in 1..100000');
  });
});

describe('SqliteStore batch ids', () => {
  let directory: string;
  let file: string;
  let store: SqliteStore;

  beforeEach(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-sqlite-batches-'));
    file = path.join(directory, 'meterkit.db');
    store = new SqliteStore({ path: file });
    await store.open();
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  /** Batch ids applied longer ago than the retention, written beside the store. */
  function ageOut(count: number): void {
    withRawSqlite(file, (db) => {
      const insert = db.prepare('INSERT INTO applied_batches (id, applied_at) VALUES (?, ?)');
      const old = Date.now() - BATCH_ID_RETENTION_MS - 60_000;
      db.transaction(() => {
        for (let i = 0; i < count; i++) insert.run(`old-${i}`, old - i);
      })();
    });
  }

  function expired(): number {
    return withRawSqlite(file, (db) =>
      (db.prepare('SELECT count(*) AS n FROM applied_batches WHERE applied_at < ?').get(Date.now() - BATCH_ID_RETENTION_MS) as { n: number }).n,
    );
  }

  async function writeBatches(count: number, prefix: string): Promise<void> {
    for (let i = 0; i < count; i++) await store.addUsage([delta()], `${prefix}-${i}`);
  }

  it('forgets expired ids every FORGET_EVERY_WRITES writes, at most FORGET_LIMIT at a time, so that no write deletes a backlog at once', async () => {
    ageOut(FORGET_LIMIT + 500);
    await writeBatches(1, 'first');
    expect(expired()).toBe(500);
    await writeBatches(FORGET_EVERY_WRITES - 1, 'next');
    expect(expired()).toBe(500);
    await writeBatches(1, 'hundredth');
    expect(expired()).toBe(0);
  });

  it('still refuses every id within the retention, however many writes forgot expired ones', async () => {
    await writeBatches(2 * FORGET_EVERY_WRITES + 1, 'kept');
    for (const id of ['kept-0', `kept-${FORGET_EVERY_WRITES}`, `kept-${2 * FORGET_EVERY_WRITES}`]) {
      await expect(store.addUsage([delta()], id)).resolves.toEqual({ late: [], applied: false });
    }
    expect((await store.listRecords())[0]?.quantity).toBe(2 * FORGET_EVERY_WRITES + 1);
  });

  it('applies a batch again once its id expired and was forgotten', async () => {
    ageOut(1);
    await writeBatches(1, 'first');
    await expect(store.addUsage([delta({ quantity: 5 })], 'old-0')).resolves.toEqual({ late: [] });
    expect((await store.listRecords())[0]?.quantity).toBe(6);
  });
});
