import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Emulator } from '@meterkit/emulator';
import type { CustomerIdentity } from '@meterkit/core';

// Shared by the stores' multi-instance tests: app instances as separate Node processes on one shared store.
const PACKAGES = path.resolve(__dirname, '../../../packages');
const SCRIPT = path.resolve(__dirname, 'app-instance.js');

/** The children run the built packages: fails with what to do when a build is missing. */
export function assertBuilt(packages: readonly string[]): void {
  for (const pkg of packages) {
    const entry = path.join(PACKAGES, pkg, 'dist', 'index.js');
    if (!existsSync(entry)) {
      throw new Error(`${path.relative(PACKAGES, entry)} is missing: build it first (npx nx run-many -t build, or npx tsc -p tsconfig.lib.json in packages/${pkg}).`);
    }
  }
}

export interface SentRecord {
  readonly licenseArn: string;
  readonly dimension: string;
  readonly hour: number;
  readonly quantity: number;
  readonly allocations: unknown;
}

/** Usage totals per `licenseArn|dimension`. */
export type Totals = Record<string, number>;

interface Message {
  type: string;
  totals?: Totals;
  records?: SentRecord[];
  error?: string;
}

export interface InstanceSettings {
  readonly emu: Emulator;
  /** A CommonJS module exporting `createStore(env)`: how each instance opens the shared store. */
  readonly storeModule: string;
  /** Extra environment for the store module. */
  readonly env: Readonly<Record<string, string>>;
  /** `timer`: each instance flushes like the scheduler does; `lambda`: through createFlushHandler with a 5 s budget. */
  readonly flush?: 'timer' | 'lambda';
  readonly productCode: string;
  readonly dimensions: readonly string[];
  readonly leaseMs: number;
}

/** One app instance in its own Node process (app-instance.js beside this file). */
export class AppInstance {
  /** Every BatchMeterUsage call this instance made, with its records. */
  readonly calls: SentRecord[][] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private waiting: Array<{ type: string; resolve: (m: Message) => void; reject: (e: Error) => void }> = [];

  constructor(readonly name: string, settings: InstanceSettings) {
    this.child = fork(SCRIPT, [], {
      env: {
        ...process.env,
        ...settings.env,
        STORE_MODULE: settings.storeModule,
        FLUSH_STYLE: settings.flush ?? 'timer',
        EMULATOR_ENDPOINT: settings.emu.endpoint,
        CLOCK_OFFSET_MS: String(settings.emu.clock.now() - Date.now()),
        PRODUCT_CODE: settings.productCode,
        DIMENSIONS: settings.dimensions.join(','),
        LEASE_MS: String(settings.leaseMs),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: Message) => this.receive(message));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => this.failWaiting(new Error(`${name} exited (${String(code)}) while the test waited for it`)));
  }

  ready(): Promise<Message> {
    return this.next('ready');
  }

  /** Sets this instance's clock to the emulator's. */
  syncClock(emu: Emulator): void {
    this.child.send({ type: 'clock', offset: emu.clock.now() - Date.now() });
  }

  /** Meters `requests` concurrent requests spread over the customers; resolves to what was recorded, persisted. */
  async traffic(customers: readonly CustomerIdentity[], requests: number, seed: number): Promise<Totals> {
    const reply = this.next('recorded');
    this.child.send({ type: 'traffic', customers, requests, seed });
    return (await reply).totals ?? {};
  }

  async close(): Promise<void> {
    const reply = this.next('closed');
    this.child.send({ type: 'close' });
    await reply;
    await this.exited;
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Ends the process if a failed test left it running. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.kill();
  }

  private next(type: string): Promise<Message> {
    return new Promise((resolve, reject) => this.waiting.push({ type, resolve, reject }));
  }

  private receive(message: Message): void {
    if (message.type === 'call') {
      this.calls.push(message.records ?? []);
      return;
    }
    if (message.type === 'failed') {
      this.failWaiting(new Error(`${this.name} failed: ${message.error ?? 'unknown error'}`));
      return;
    }
    const index = this.waiting.findIndex((w) => w.type === message.type);
    if (index < 0) return;
    const [waiter] = this.waiting.splice(index, 1);
    waiter?.resolve(message);
  }

  private failWaiting(error: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const waiter of waiting) waiter.reject(error);
  }
}

export function addTotals(into: Totals, more: Totals): void {
  for (const [key, quantity] of Object.entries(more)) into[key] = (into[key] ?? 0) + quantity;
}

/** Polls until `done()` is true; fails after `timeoutMs` with `what`. */
export async function waitUntil(what: string, done: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
