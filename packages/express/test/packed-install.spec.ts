import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ROOT,
  ensureBuilt,
  exportTargets,
  filesOf,
  installConsumer,
  packAll,
  publishablePackages,
  readManifest,
  runScript,
  typeCheck,
  unresolvedSourceMaps,
} from '../../../tools/testing/consumer/consumer-project';

/**
 * Every publishable package, packed and installed from its tarball into a fresh project as a user would
 * (`npm install` of the tarballs and the peers a user adds, never better-sqlite3): CommonJS `require`, ES module
 * `import`, TypeScript strict with skipLibCheck false (node16 CommonJS and ES module, bundler resolution), Fastify's
 * default and named imports, an Express app billing a request, and a PostgreSQL-only app without the SQLite driver.
 * Uses the packages' build output (`nx run-many -t build`; a missing build is built here).
 */
const PG_URL = process.env.METERKIT_TEST_PG_URL ?? 'postgres://meterkit:meterkit@127.0.0.1:5432/meterkit';
const packages = publishablePackages();

describe('the published packages, packed and installed into a fresh project', () => {
  let dir: string;
  let app: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meterkit-consumer-'));
    app = join(dir, 'app');
    await ensureBuilt(packages);
    const tarballs = await packAll(packages, join(dir, 'tarballs'));
    expect([...tarballs.keys()].sort()).toEqual(packages.map((p) => p.manifest.name).sort());
    await installConsumer(app, tarballs);
  }, 600_000);
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it.each(packages.map((p) => [p.manifest.name] as const))('%s ships every file its manifest names, source maps resolve, no tests', (name) => {
    const installed = join(app, 'node_modules', name);
    const manifest = readManifest(installed);
    const named = [...exportTargets(manifest.exports), manifest.main!, manifest.types!, ...Object.values(manifest.bin ?? {})];
    expect(named.filter((file) => !existsSync(join(installed, file)))).toEqual([]);
    const conditions = Object.values(manifest.exports!).filter((entry): entry is Record<string, unknown> => typeof entry === 'object');
    for (const entry of conditions) expect(Object.keys(entry)).toEqual(expect.arrayContaining(['import', 'require']));
    expect(unresolvedSourceMaps(installed)).toEqual([]);
    expect(filesOf(installed).filter((file) => /\.(spec|test-helpers)\.ts$/.test(file))).toEqual([]);
  });

  it('no package depends on better-sqlite3: core and cli ask for it as an optional peer, and npm did not install it', () => {
    for (const { manifest } of packages) expect(manifest.dependencies ?? {}).not.toHaveProperty('better-sqlite3');
    for (const name of ['@meterkit/core', '@meterkit/cli']) {
      const manifest = readManifest(join(app, 'node_modules', name));
      expect(manifest.peerDependencies).toHaveProperty('better-sqlite3');
      expect(manifest.peerDependenciesMeta?.['better-sqlite3']).toEqual({ optional: true });
    }
    expect(existsSync(join(app, 'node_modules', 'better-sqlite3'))).toBe(false);
  });

  it('CommonJS requires every entry; the Fastify plugin is the module, its default and its meterkit', async () => {
    const result = (await runScript(app, 'require-all.cjs')) as { names: Record<string, string[]>; fastify: Record<string, boolean> };
    expect(result.fastify).toEqual({ moduleIsPlugin: true, defaultIsPlugin: true, namedIsPlugin: true });
    expect(result.names['@meterkit/core']).toEqual(expect.arrayContaining(['createMetering', 'MeterkitError', 'SqliteStore', 'MemoryStore']));
    expect(result.names['@meterkit/core/testing']).toEqual(expect.arrayContaining(['describeUsageStoreConformance', 'MemoryStore']));
    expect(result.names['@meterkit/store-postgres']).toContain('PostgresStore');
  });

  it('an ES module imports every entry with the names CommonJS has; Fastify default and named imports register', async () => {
    const cjs = (await runScript(app, 'require-all.cjs')) as { names: Record<string, string[]> };
    const esm = (await runScript(app, 'import-all.mjs')) as { names: Record<string, string[]>; fastify: unknown };
    expect(esm.names).toEqual(cjs.names);
    expect(esm.fastify).toEqual({
      defaultIsNamed: true,
      type: 'function',
      registered: [
        { status: 200, body: { decorated: true } },
        { status: 200, body: { decorated: true } },
      ],
    });
  });

  it('an Express app (plain CommonJS) meters one request and bills it to the emulator', async () => {
    expect(await runScript(app, 'serve-one.cjs')).toEqual({ status: 200, body: { metered: true }, sent: 1, total: 3 });
  }, 120_000);

  it('a PostgreSQL-only app runs without better-sqlite3; the SQLite store then says what to install', async () => {
    expect(await runScript(app, 'postgres-only.cjs', { PG_URL, SQLITE_FILE: join(dir, 'missing-driver.db') })).toEqual({
      sqliteDriver: 'absent',
      store: { kind: 'postgres', durable: true },
      storeError: null,
      failure: { code: 'ERR_METERKIT_STORE', message: 'the SQLite store needs better-sqlite3: npm install better-sqlite3@12' },
    });
  });

  it('the installed commands run: meterkit and meterkit-emulator', async () => {
    for (const bin of ['meterkit', 'meterkit-emulator']) {
      const { stdout } = await promisify(execFile)(join(app, 'node_modules', '.bin', bin), ['--help'], { cwd: app });
      expect(stdout).toContain('Usage:');
    }
  });

  it('TypeScript strict with skipLibCheck false: node16 CommonJS and ES module, and bundler resolution', async () => {
    const [node16, bundler] = await Promise.all([typeCheck(app, 'tsconfig.node16.json'), typeCheck(app, 'tsconfig.bundler.json')]);
    expect({ node16, bundler }).toEqual({ node16: '', bundler: '' });
  }, 300_000);

  it('once the app installs better-sqlite3, the default SQLite store opens', async () => {
    symlinkSync(join(ROOT, 'node_modules', 'better-sqlite3'), join(app, 'node_modules', 'better-sqlite3'), 'dir');
    expect(await runScript(app, 'sqlite.mjs', { SQLITE_FILE: join(dir, 'sqlite.db') })).toEqual({ store: { kind: 'sqlite', durable: true }, storeError: null });
  });
});
