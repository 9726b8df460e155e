import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * A consumer's project built from the packed tarballs of every publishable package: `npm pack` each package,
 * `npm install` the tarballs (and the peers a user would add, never better-sqlite3) into a fresh project once,
 * then run CommonJS, ES module and TypeScript checks against that one install.
 */
export const ROOT = resolve(__dirname, '../../..');
export const FIXTURES = join(__dirname, 'fixtures');
const run = promisify(execFile);

/** Versions from the workspace's own manifests, so the consumer gets what the packages are tested with. */
const PEERS: Record<string, string> = {
  express: 'packages/express',
  fastify: 'packages/fastify',
  pg: 'packages/store-postgres',
  '@aws-sdk/client-dynamodb': 'packages/store-dynamodb',
  '@nestjs/common': 'packages/nestjs',
  '@nestjs/core': 'packages/nestjs',
  'reflect-metadata': 'packages/nestjs',
  rxjs: 'packages/nestjs',
  '@types/express': 'packages/express',
  '@types/pg': 'packages/store-postgres',
};

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The publishable packages: packages/* not marked private. */
export function publishablePackages(): Array<{ dir: string; manifest: Manifest }> {
  return readdirSync(join(ROOT, 'packages'))
    .map((name) => join(ROOT, 'packages', name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: readManifest(dir) }))
    .filter(({ manifest }) => manifest.private !== true);
}

/** Every file path an `exports` map can resolve to, over all its conditions. */
export function exportTargets(exportsMap: unknown): string[] {
  if (typeof exportsMap === 'string') return [exportsMap];
  if (exportsMap === null || typeof exportsMap !== 'object') return [];
  return Object.values(exportsMap).flatMap(exportTargets);
}

/** Builds (CommonJS build and ES module entries) of the packages whose build output is missing. */
export async function ensureBuilt(packages: ReadonlyArray<{ dir: string; manifest: Manifest }>): Promise<void> {
  for (const { dir, manifest } of packages) {
    const missing = exportTargets(manifest.exports).filter((target) => target.startsWith('./dist/') && !existsSync(join(dir, target)));
    if (missing.length === 0) continue;
    try {
      await run('npm', ['run', 'build', '--silent'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const failed = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`${manifest.name} has no build (${missing.join(', ')}) and building it failed:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
    }
  }
}

export async function packAll(packages: ReadonlyArray<{ dir: string }>, destination: string): Promise<Map<string, string>> {
  mkdirSync(destination, { recursive: true });
  const workspaces = packages.flatMap(({ dir }) => ['-w', relative(ROOT, dir)]);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination, ...workspaces], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout) as Array<{ name: string; filename: string }>;
  return new Map(packed.map((p) => [p.name, join(destination, p.filename)]));
}

function peerVersion(name: string): string {
  const manifest = readManifest(join(ROOT, PEERS[name]!));
  const version = manifest.devDependencies?.[name] ?? manifest.dependencies?.[name];
  if (version === undefined) throw new Error(`${PEERS[name]} does not pin ${name}`);
  return version;
}

/** Writes the project (tarballs, peers, TypeScript, the fixtures) and installs it with npm, as a user would. */
export async function installConsumer(app: string, tarballs: Map<string, string>): Promise<void> {
  mkdirSync(app, { recursive: true });
  const root = readManifest(ROOT);
  const dependencies: Record<string, string> = {};
  for (const [name, file] of tarballs) dependencies[name] = `file:${relative(app, file)}`;
  for (const name of Object.keys(PEERS)) dependencies[name] = peerVersion(name);
  dependencies['typescript'] = root.devDependencies!['typescript']!;
  dependencies['@types/node'] = root.devDependencies!['@types/node']!;
  const overrides = (root as { overrides?: Record<string, string> }).overrides ?? {};
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'meterkit-consumer', version: '1.0.0', private: true, dependencies, overrides }, null, 2)}\n`);
  for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(app, file));
  // One source, checked as CommonJS and as an ES module under node16.
  for (const copy of ['check.cts', 'check.mts']) copyFileSync(join(FIXTURES, 'check.ts'), join(app, copy));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: app,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Runs a script of the project with Node; its stdout is JSON. */
export async function runScript(app: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  try {
    const { stdout } = await run(process.execPath, [script], {
      cwd: app,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout) as unknown;
  } catch (error) {
    const failed = error as Error & { stderr?: string; stdout?: string };
    throw new Error(`${script} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
  }
}

/** Type-checks the project with one of its tsconfig files; resolves to the compiler's diagnostics (empty: it passes). */
export async function typeCheck(app: string, tsconfig: string): Promise<string> {
  const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', tsconfig, '--pretty', 'false'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    return '';
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message;
  }
}

/** Files of an installed package, relative to its folder. */
export function filesOf(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    return statSync(join(dir, path)).isDirectory() ? filesOf(dir, path) : [path];
  });
}

/** Source maps of an installed package whose `sources` name a file it does not ship. */
export function unresolvedSourceMaps(dir: string): string[] {
  const broken: string[] = [];
  for (const file of filesOf(dir).filter((f) => f.endsWith('.map'))) {
    const map = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const source of map.sources) {
      const target = resolve(dirname(join(dir, file)), map.sourceRoot ?? '', source);
      if (!existsSync(target)) broken.push(`${file} -> ${source}`);
    }
  }
  return broken;
}
