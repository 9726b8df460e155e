import { startEmulator, type Emulator } from '@meterkit/emulator';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Installs the packed tarballs of @meterkit/core and @meterkit/express into an app outside the workspace, as a user
 * would, and runs plain CommonJS (no Jest transform) and a TypeScript check against them: this proves `main`,
 * `exports`, `types` and the declared dependencies. `npm install --offline` cannot resolve the transitive
 * dependencies from the npm cache here (ENOTCACHED), so the tarballs are extracted into node_modules and each
 * declared third-party dependency is linked to the workspace's copy.
 */
const ROOT = resolve(__dirname, '../../..');
const PACKAGES = { core: join(ROOT, 'packages/core'), express: join(ROOT, 'packages/express') };
const TSC = require.resolve('typescript/bin/tsc');
const PRODUCT = 'prod-packed';

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function build(dir: string, strict: boolean): void {
  try {
    run(process.execPath, [TSC, '-p', 'tsconfig.lib.json'], dir);
  } catch (error) {
    // The core's own type errors are its tests' business; what matters here is that its dist was emitted.
    if (strict || !existsSync(join(dir, 'dist/index.js'))) throw error;
  }
}

function install(app: string, tarball: string, name: string): Record<string, string> {
  const target = join(app, 'node_modules', name);
  mkdirSync(target, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], app);
  const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  // Optional peers (telemetry) are not installed: the package must work without them.
  const peers = Object.entries(manifest.peerDependencies ?? {}).filter(([peer]) => manifest.peerDependenciesMeta?.[peer]?.optional !== true);
  return { ...manifest.dependencies, ...Object.fromEntries(peers) };
}

function linkFromWorkspace(app: string, name: string): void {
  const link = join(app, 'node_modules', name);
  if (existsSync(link)) return;
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules', name), link, 'dir');
}

const SCRIPT = `'use strict';
const express = require('express');
const { createMetering, silentLogger } = require('@meterkit/core');
const { meterkit } = require('@meterkit/express');

async function main() {
  const identity = JSON.parse(process.env.IDENTITY);
  let shift = 0;
  const metering = createMetering({
    products: [{ productCode: '${PRODUCT}', dimensions: ['api_calls'] }],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: process.env.ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => Date.now() + shift,
    logger: silentLogger,
    autoStart: false,
  });
  const mk = meterkit(metering, { identify: (req) => (req.get('x-customer') === 'paying' ? identity : undefined), start: false });
  const app = express();
  app.use(mk);
  app.get('/work', mk.count('api_calls', 3), (req, res) => res.json({ metered: req.meter !== undefined }));
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const response = await fetch('http://127.0.0.1:' + server.address().port + '/work', { headers: { 'x-customer': 'paying' } });
  const body = await response.json();
  await new Promise((resolve) => server.close(resolve));
  shift = 2 * 3600000;
  const report = await metering.flush();
  await mk.close();
  process.stdout.write(JSON.stringify({ status: response.status, body, sent: report.sent }));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

const TYPES_CHECK = `import express from 'express';
import type { Metering } from '@meterkit/core';
import { meterkit, type MeterkitMiddleware } from '@meterkit/express';

declare const core: Metering;
const mk: MeterkitMiddleware = meterkit(core, { identify: (req) => req.get('x-tenant'), registration: { path: '/register' } });
const app = express();
app.use(mk);
app.get('/', mk.count('api_calls'), (req, res) => {
  req.meter?.record('api_calls', 2, { tags: { team: 'blue' } });
  const code: string | undefined = req.meteringError?.code;
  // @ts-expect-error the meter is undefined for unmetered requests
  req.meter.record('api_calls');
  res.json({ code });
});
const closing: Promise<void> = mk.close();
void closing;
`;

describe('the published packages, installed like a user would', () => {
  let dir: string;
  let emu: Emulator;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meterkit-express-packed-'));
    emu = await startEmulator({ products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }] });
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('requires @meterkit/express from plain CommonJS, serves one metered request and bills it; its types check', async () => {
    build(PACKAGES.core, false);
    build(PACKAGES.express, true);
    const tarballs = join(dir, 'tarballs');
    mkdirSync(tarballs);
    for (const packageDir of Object.values(PACKAGES)) run('npm', ['pack', '--pack-destination', tarballs, '--silent'], packageDir);

    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, dependencies: { '@meterkit/core': '0.1.0', '@meterkit/express': '0.1.0', express: '^5.0.0' } }));
    const declared = {
      ...install(app, join(tarballs, 'meterkit-core-0.1.0.tgz'), '@meterkit/core'),
      ...install(app, join(tarballs, 'meterkit-express-0.1.0.tgz'), '@meterkit/express'),
    };
    for (const name of [...Object.keys(declared), 'express', '@types/express', '@types/node']) if (!name.startsWith('@meterkit/')) linkFromWorkspace(app, name);
    expect(Object.keys(declared).sort()).toEqual(['@aws-sdk/client-marketplace-metering', '@meterkit/core', 'better-sqlite3', 'express', 'jose']);

    const subscription = await emu.subscribe({ productCode: PRODUCT });
    const identity = { kind: 'license', licenseArn: subscription.licenseArn, customerAwsAccountId: subscription.accountId, productCode: PRODUCT };
    writeFileSync(join(app, 'serve-one.js'), SCRIPT);
    const output = await new Promise<string>((resolveOutput, reject) => {
      const { execFile } = require('node:child_process') as typeof import('node:child_process');
      execFile(
        process.execPath,
        ['serve-one.js'],
        { cwd: app, env: { ...process.env, ENDPOINT: emu.endpoint, IDENTITY: JSON.stringify(identity) }, encoding: 'utf8' },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolveOutput(stdout)),
      );
    });
    expect(JSON.parse(output)).toEqual({ status: 200, body: { metered: true }, sent: 1 });
    expect(emu.inspect.totalFor({ licenseArn: subscription.licenseArn!, dimension: 'api_calls' })).toBe(3);

    writeFileSync(join(app, 'check.ts'), TYPES_CHECK);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', esModuleInterop: true, skipLibCheck: true, types: ['node'] }, files: ['check.ts'] }),
    );
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
  }, 120_000);
});
