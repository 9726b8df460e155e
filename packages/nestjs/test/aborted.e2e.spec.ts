import 'reflect-metadata';
import { request as httpRequest } from 'node:http';
import { Controller, Get, Res, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Emulator } from '@meterkit/emulator';
import type { CommitPolicy, Metering } from '@meterkit/core';
import { METERING, Metered, MeteringModule } from '../src';
import { coreOptions, startProductEmulator } from './support/emulator';
import { billedUnitsAfterClose } from './support/billed-units';
import { listen, PLATFORMS, type Platform } from './support/platforms';

/** A handler the test holds until its client has gone away: its response closes without finishing. */
class Held {
  entered!: Promise<void>;
  closed!: Promise<void>;
  private enter!: () => void;
  private release!: () => void;
  private released!: Promise<void>;

  constructor() {
    this.entered = new Promise((resolve) => (this.enter = resolve));
    this.released = new Promise((resolve) => (this.release = resolve));
  }

  async hold(response: { raw?: NodeJS.EventEmitter } & NodeJS.EventEmitter): Promise<void> {
    const raw = response.raw ?? response;
    this.closed = new Promise((resolve) => raw.once('close', () => resolve()));
    this.enter();
    await this.released;
  }

  /** Lets the handler answer (into a closed response). */
  finish(): void {
    this.release();
  }
}

let held: Held;

@Controller('held')
class HeldController {
  @Get()
  @Metered('api_calls', 5)
  async show(@Res({ passthrough: true }) response: { raw?: NodeJS.EventEmitter } & NodeJS.EventEmitter): Promise<{ ok: true }> {
    await held.hold(response);
    return { ok: true };
  }
}

describe.each(PLATFORMS)('a metered request whose client goes away, on %s', (_name, platform: Platform) => {
  let emu: Emulator;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    emu = await startProductEmulator();
  });
  afterAll(() => emu.close());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(commitPolicy?: CommitPolicy): Promise<{ port: number; metering: Metering }> {
    const moduleRef = await Test.createTestingModule({
      imports: [MeteringModule.forRoot({ ...coreOptions(emu), manageLifecycle: false, identify: () => 'acme', ...(commitPolicy === undefined ? {} : { commitPolicy }) })],
      controllers: [HeldController],
    }).compile();
    app = platform.create(moduleRef);
    const url = await listen(app);
    const metering = app.get<Metering>(METERING);
    const subscription = await emu.subscribe({ productCode: 'prod-nestjs1' });
    const customer = await metering.resolveRegistration(subscription.token);
    await metering.linkTenant(customer.key, 'acme');
    return { port: Number(new URL(url).port), metering };
  }

  /** One request, abandoned by its client once the handler holds it; resolves when the handler has answered. */
  async function abandon(port: number): Promise<void> {
    held = new Held();
    const client = httpRequest({ host: '127.0.0.1', port, path: '/held', agent: false });
    client.on('error', () => undefined);
    client.end();
    await held.entered;
    client.destroy();
    await held.closed;
    held.finish();
  }

  async function billed(metering: Metering): Promise<number> {
    const closing = app!;
    app = undefined;
    return billedUnitsAfterClose(closing, metering);
  }

  it('bills nothing by default', async () => {
    const { port, metering } = await start();
    await abandon(port);
    expect(await billed(metering)).toBe(0);
  });

  it('bills its usage once with commitPolicy.commitAborted', async () => {
    const { port, metering } = await start({ commitAborted: true });
    await abandon(port);
    await abandon(port);
    expect(await billed(metering)).toBe(2 * 5);
  });
});
