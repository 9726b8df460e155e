/**
 * better-sqlite3 is an optional peer of @meterkit/core: it is loaded when a SQLite store opens, and its absence is a
 * typed error there, so PostgreSQL and DynamoDB users never install a native module.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Core = typeof import('../../src/index') & typeof import('../../src/store/store-from-option');

function notInstalled(name: string): () => never {
  return () => {
    throw Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- ${__filename}`), { code: 'MODULE_NOT_FOUND' });
  };
}

/** @meterkit/core loaded afresh, with better-sqlite3 replaced by `driver`. */
function coreWith(driver: () => unknown): Core {
  let core: Core | undefined;
  jest.isolateModules(() => {
    jest.doMock('better-sqlite3', driver);
    core = { ...require('../../src/index'), ...require('../../src/store/store-from-option') } as Core;
  });
  return core!;
}

describe('the SQLite driver (better-sqlite3) loads only when a SQLite store opens', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meterkit-sqlite-driver-'));
  });
  afterEach(() => {
    jest.dontMock('better-sqlite3');
    rmSync(dir, { recursive: true, force: true });
  });

  it('@meterkit/core loads without better-sqlite3 and a memory store works', async () => {
    const core = coreWith(notInstalled('better-sqlite3'));
    const store = new core.MemoryStore();
    await store.open();
    expect(await store.listRecords()).toEqual([]);
    await store.close();
  });

  it('opening a SQLite store (the default store too) without better-sqlite3 is ERR_METERKIT_STORE naming the install command', async () => {
    const core = coreWith(notInstalled('better-sqlite3'));
    for (const store of [new core.SqliteStore({ path: join(dir, 'a.db') }), core.storeFromOption('sqlite:' + join(dir, 'b.db'))]) {
      const error = await store.open().then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_METERKIT_STORE', message: expect.stringContaining('the SQLite store needs better-sqlite3: npm install better-sqlite3@12') });
    }
  });

  it('another failure to load the driver (a module it needs, a build for another Node) keeps its cause', async () => {
    const core = coreWith(notInstalled('bindings'));
    const error = (await new core.SqliteStore({ path: join(dir, 'c.db') }).open().then(() => undefined, (e: unknown) => e)) as Error & { code?: string; cause?: unknown };
    expect(error.code).toBe('ERR_METERKIT_STORE');
    expect(error.message).toContain("Cannot find module 'bindings'");
    expect(error.message).not.toContain('npm install better-sqlite3');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('with better-sqlite3 installed, a SQLite store opens and keeps usage', async () => {
    const core = coreWith(() => jest.requireActual('better-sqlite3'));
    const store = new core.SqliteStore({ path: join(dir, 'd.db') });
    await store.open();
    expect(await store.listRecords()).toEqual([]);
    await store.close();
  });
});
