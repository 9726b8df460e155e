#!/usr/bin/env node
'use strict';
/**
 * Writes the ES module entries of a package after its CommonJS build (run from the package's directory):
 * for each `exports` entry, `import` -> dist/esm/<entry>.js re-exports `require` -> dist/<entry>.js, so that
 * `import` and `require` share one copy of the code (see docs/decisions.md, "Publishable builds").
 *
 * The named exports are read from the CommonJS module itself, so the ES module entry has exactly its names.
 * A module exporting `default` (the Fastify plugin) gets that as its ES default export.
 */
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const packageDir = process.cwd();
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function fail(message) {
  process.stderr.write(`${manifest.name}: ${message}\n`);
  process.exit(1);
}

function entriesOf(exportsMap) {
  const entries = [];
  for (const [subpath, target] of Object.entries(exportsMap ?? {})) {
    if (typeof target !== 'object' || target === null) continue;
    const esm = target.import;
    const cjs = target.require;
    if (esm === undefined && cjs === undefined) continue;
    if (esm === undefined || cjs === undefined) fail(`exports["${subpath}"] needs both "import" and "require"`);
    entries.push({ subpath, esm, cjs });
  }
  return entries;
}

function relativeSpecifier(from, to) {
  const path = relative(dirname(from), to).split('\\').join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

function writeEntry({ subpath, esm, cjs }) {
  const cjsFile = resolve(packageDir, cjs.default);
  const esmFile = resolve(packageDir, esm.default);
  const esmTypes = resolve(packageDir, esm.types);
  if (!esmFile.startsWith(join(packageDir, 'dist', 'esm') + '/')) fail(`exports["${subpath}"].import must point into dist/esm`);
  const loaded = require(cjsFile);
  const names = Object.keys(loaded).filter((name) => name !== 'default' && name !== '__esModule');
  const bad = names.filter((name) => !IDENTIFIER.test(name));
  if (bad.length > 0) fail(`${cjs.default} exports names an ES module cannot re-export: ${bad.join(', ')}`);
  const hasDefault = Object.prototype.hasOwnProperty.call(loaded, 'default');
  const specifier = relativeSpecifier(esmFile, cjsFile);
  const typesSpecifier = relativeSpecifier(esmTypes, cjsFile);
  const banner = `// ${manifest.name}${subpath === '.' ? '' : subpath.slice(1)} as an ES module: the CommonJS build, re-exported.\n`;

  const js = [banner.trimEnd(), `import cjs from '${specifier}';`];
  if (names.length > 0) js.push(`export const { ${names.join(', ')} } = cjs;`);
  if (hasDefault) js.push('export default cjs.default;');
  const dts = [banner.trimEnd(), `export * from '${typesSpecifier}';`];
  if (hasDefault) {
    // An ES module sees a CommonJS module's `default` as the whole module: the default is typed by the named export
    // it equals, which the CommonJS types declare.
    const declared = readFileSync(resolve(packageDir, cjs.types), 'utf8');
    const alias = names.find((name) => loaded[name] === loaded.default && new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`).test(declared));
    if (alias === undefined) fail(`${cjs.default}: the default export must equal a named export its types declare`);
    dts.push(`export { ${alias} as default } from '${typesSpecifier}';`);
  }
  mkdirSync(dirname(esmFile), { recursive: true });
  mkdirSync(dirname(esmTypes), { recursive: true });
  writeFileSync(esmFile, `${js.join('\n')}\n`);
  writeFileSync(esmTypes, `${dts.join('\n')}\n`);
}

const entries = entriesOf(manifest.exports);
if (entries.length === 0) fail('no exports entry with "import" and "require"');
mkdirSync(join(packageDir, 'dist', 'esm'), { recursive: true });
writeFileSync(join(packageDir, 'dist', 'esm', 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);
for (const entry of entries) writeEntry(entry);
