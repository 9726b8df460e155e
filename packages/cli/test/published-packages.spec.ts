/**
 * What a user gets from the registry: every publishable package passes `npm publish --dry-run` without a warning and
 * ships its LICENSE, README and CHANGELOG with complete metadata, README links resolve outside this repository, and
 * README code samples type-check against the built packages.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { ErrorCodes } from '@meterkit/core';
import { ensureBuilt, publishablePackages } from '../../../tools/testing/consumer/consumer-project';
import { checkReadme } from '../../../tools/testing/readme-examples/readme-examples';

const ROOT = join(__dirname, '..', '..', '..');
const REPOSITORY = 'https://github.com/meterkit/meterkit';

interface PackageJson {
  name: string;
  private?: boolean;
  files?: string[];
  exports?: Record<string, { '@meterkit/source'?: string } | string>;
  [field: string]: unknown;
}

const packages = readdirSync(join(ROOT, 'packages'))
  .filter((dir) => existsSync(join(ROOT, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as PackageJson }))
  .filter((p) => p.json.private !== true);

const readme = (dir: string): string => readFileSync(join(ROOT, 'packages', dir, 'README.md'), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(
      match[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

/** Markdown link and image targets outside code. */
function linkTargets(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** Why a link does not resolve for a reader of the registry page, or undefined when it does. */
function brokenLink(target: string, page: string): string | undefined {
  if (target.startsWith('#')) return anchorsOf(page).has(target.slice(1)) ? undefined : 'no such heading on this page';
  if (target.startsWith(`${REPOSITORY}/`)) {
    const match = /^https:\/\/github\.com\/meterkit\/meterkit\/(blob|tree)\/main\/([^#]+)(?:#(.+))?$/.exec(target);
    if (match === null) return undefined;
    const [, kind, path, anchor] = match;
    const file = join(ROOT, decodeURIComponent(path!));
    if (!existsSync(file)) return 'no such file in the repository';
    if ((kind === 'tree') !== statSync(file).isDirectory()) return kind === 'tree' ? 'tree/ link to a file' : 'blob/ link to a folder';
    if (anchor !== undefined && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) return `no heading #${anchor} in ${path}`;
    return undefined;
  }
  if (/^(https?:|mailto:)/.test(target)) return undefined;
  return 'relative link: it does not resolve on the registry';
}

/** The names each entry point (`@meterkit/core`, `@meterkit/core/testing`, …) exports, from the TypeScript sources. */
function exportedNames(): Map<string, Set<string>> {
  const entries = new Map<string, string>();
  for (const { dir, json } of packages) {
    for (const [subpath, target] of Object.entries(json.exports ?? {})) {
      const source = typeof target === 'object' ? target['@meterkit/source'] : undefined;
      if (source !== undefined) entries.set(`${json.name}${subpath === '.' ? '' : subpath.slice(1)}`, join(ROOT, 'packages', dir, source));
    }
  }
  const program = ts.createProgram([...entries.values()], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['@meterkit/source'],
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const names = new Map<string, Set<string>>();
  for (const [specifier, file] of entries) {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    names.set(specifier, new Set(checker.getExportsOfModule(symbol).map((s) => s.name)));
  }
  return names;
}

/** Names a README says its package exports: in a paragraph starting `Exports:` or `Also exported:`, or `exported as \`X\``. */
function namedExports(markdown: string): string[] {
  const names: string[] = [];
  for (const [paragraph] of markdown.matchAll(/^(?:Exports|Also exported):[\s\S]*?(?=\n\s*\n|(?![\s\S]))/gm)) {
    for (const [, name] of paragraph.matchAll(/`([A-Za-z_$][\w$]*)(?:\([^`]*\))?`/g)) names.push(name!);
  }
  for (const [, name] of markdown.matchAll(/exported as `([A-Za-z_$][\w$]*)`/g)) names.push(name!);
  return names;
}

describe('published packages', () => {
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

  it('the repository has the Apache-2.0 LICENSE', () => {
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it('Changesets releases every publishable package under one version and ignores the private apps', () => {
    const config = JSON.parse(readFileSync(join(ROOT, '.changeset', 'config.json'), 'utf8')) as { fixed: string[][]; ignore: string[] };
    const apps = readdirSync(join(ROOT, 'apps'))
      .filter((dir) => existsSync(join(ROOT, 'apps', dir, 'package.json')))
      .map((dir) => JSON.parse(readFileSync(join(ROOT, 'apps', dir, 'package.json'), 'utf8')) as PackageJson);
    expect(config.fixed).toHaveLength(1);
    expect([...config.fixed[0]!].sort()).toEqual(packages.map((p) => p.json.name).sort());
    expect(new Set(packages.map((p) => p.json['version']))).toEqual(new Set([packages[0]!.json['version']]));
    expect(apps.every((app) => app.private === true)).toBe(true);
    expect([...config.ignore].sort()).toEqual(apps.map((app) => app.name).sort());
  });

  it.each(packages.map((p) => [p.json.name, p] as const))('%s: metadata a registry page and npm need', (_name, { dir, json }) => {
    expect(json).toMatchObject({
      license: 'Apache-2.0',
      homepage: `${REPOSITORY}/tree/main/packages/${dir}#readme`,
      bugs: { url: `${REPOSITORY}/issues` },
      repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${dir}` },
      publishConfig: { access: 'public' },
      engines: { node: '>=20.19' },
    });
    expect(typeof json['author']).toBe('string');
    expect((json['keywords'] as string[]).length).toBeGreaterThan(2);
    expect(json['sideEffects'] === false || Array.isArray(json['sideEffects'])).toBe(true);
    expect(json.files).toEqual(expect.arrayContaining(['README.md', 'LICENSE']));
  });

  describe('npm publish --dry-run', () => {
    // As a maintainer runs it in the package's folder: without the npm_* variables (npm_config_*, the workspace's
    // prefix) of the npm or npx that started the tests, so only the throwaway configuration applies.
    const withoutNpmEnvironment = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
    // No login and no registry: a dead local registry, an npmrc holding only a token for it, and --offline, so npm
    // validates and packs everything a publish would without a network call.
    const registry = 'http://127.0.0.1:9/';
    let home: string;
    beforeAll(() => {
      home = mkdtempSync(join(tmpdir(), 'meterkit-publish-'));
      writeFileSync(join(home, 'npmrc'), `//127.0.0.1:9/:_authToken=dry-run\n`);
      writeFileSync(join(home, 'global-npmrc'), '');
    });
    afterAll(() => rmSync(home, { recursive: true, force: true }));

    it.each(packages.map((p) => [p.json.name, p] as const))('%s: publishes without a warning the files a user needs', async (name, { dir, json }) => {
      const cwd = join(ROOT, 'packages', dir);
      const npmrc = join(home, 'npmrc');
      const { stdout, stderr } = await promisify(execFile)(
        'npm',
        ['publish', '--dry-run', '--json', '--ignore-scripts', '--offline', '--registry', registry, '--userconfig', npmrc, '--globalconfig', join(home, 'global-npmrc'), '--cache', join(home, 'cache')],
        { cwd, env: withoutNpmEnvironment(), maxBuffer: 64 * 1024 * 1024 },
      );
      expect(stderr.split('\n').filter((line) => /^npm (warn|error|ERR)/i.test(line))).toEqual([]);
      const published = (JSON.parse(stdout) as Record<string, { id: string; files: Array<{ path: string }> }>)[name]!;
      expect(published.id).toBe(`${name}@${json['version'] as string}`);
      const files = published.files.map((f) => f.path);
      const sources = Object.values(json.exports ?? {}).flatMap((target) => (typeof target === 'object' && target['@meterkit/source'] !== undefined ? [target['@meterkit/source'].slice(2)] : []));
      const bins = Object.values((json['bin'] as Record<string, string> | undefined) ?? {}).map((bin) => bin.replace(/^\.\//, ''));
      expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', ...sources, ...bins]));
      expect(files.filter((file) => /\.(spec|test-helpers)\.ts$|^test\/|(^|\/)jest\.config\.js$|^tsconfig/.test(file))).toEqual([]);
      expect(readFileSync(join(cwd, 'LICENSE'), 'utf8')).toBe(license);
      expect(readFileSync(join(cwd, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^# ${name.replace('/', '\\/')}\n\n## \\d+\\.\\d+\\.\\d+`));
    }, 120_000);
  });

  it.each(packages.map((p) => [p.json.name, p] as const))('%s: every README link resolves from the registry page', (_name, { dir }) => {
    const page = readme(dir);
    const broken = linkTargets(page)
      .map((target) => ({ target, why: brokenLink(target, page) }))
      .filter((link) => link.why !== undefined);
    expect(broken).toEqual([]);
  });

  it.each([['README.md', 'root.d.ts'] as const, ...packages.map((p) => [`packages/${p.dir}/README.md`, `${p.dir}.d.ts`] as const)])(
    '%s: every ts code block type-checks against the built packages',
    async (readmePath, shim) => {
      await ensureBuilt(publishablePackages());
      expect(checkReadme(readmePath, shim)).toEqual([]);
    },
    120_000,
  );

  it('exports a README lists exist, and error codes it names exist', () => {
    const exports = exportedNames();
    const codes = new Set<string>(Object.values(ErrorCodes));
    const missing: string[] = [];
    for (const { dir, json } of packages) {
      const page = readme(dir);
      for (const name of namedExports(page)) {
        if (!exports.get(json.name)?.has(name)) missing.push(`${json.name} README: ${name}, said to be exported`);
      }
      for (const [code] of page.matchAll(/ERR_METERKIT_[A-Z0-9_]+/g)) if (!codes.has(code)) missing.push(`${json.name} README: ${code}`);
      for (const [, key] of page.matchAll(/ErrorCodes\.([A-Z0-9_]+)/g)) if (!(key! in ErrorCodes)) missing.push(`${json.name} README: ErrorCodes.${key}`);
    }
    expect(missing).toEqual([]);
  }, 120_000);
});
