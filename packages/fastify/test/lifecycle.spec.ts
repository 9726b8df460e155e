import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '@meterkit/emulator';
import type { Metering } from '@meterkit/core';
import type { FastifyInstance } from 'fastify';
import type { CommitPolicy } from '@meterkit/core';
import { appWith, emulator, flushHour, meteringFor, tenant } from './support/world';

describe('lifecycle: start, close and aborted requests', () => {
  let emu: Emulator;
  let dir: string;
  const open: Metering[] = [];

  beforeEach(async () => {
    emu = await emulator();
    dir = mkdtempSync(join(tmpdir(), 'meterkit-fastify-'));
  });
  afterEach(async () => {
    for (const metering of open.splice(0)) await metering.close().catch(() => undefined);
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function sqliteMetering(): Metering {
    const metering = meteringFor(emu, { store: `sqlite:${join(dir, 'usage.db')}` });
    open.push(metering);
    return metering;
  }

  it('starts the scheduler on ready, and close() leaves nothing unpersisted', async () => {
    const metering = sqliteMetering();
    await tenant(emu, metering, 'tenant-alice');
    const start = jest.spyOn(metering, 'start');
    const app = await appWith(metering);
    app.get('/reports', { config: { metering: { dimension: 'api_calls' } } }, async () => ({ ok: true }));
    await app.ready();
    expect(start).toHaveBeenCalledTimes(1);

    for (let i = 0; i < 5; i++) await app.inject({ url: '/reports', headers: { 'x-tenant': 'tenant-alice' } });
    expect((await metering.status()).inMemory).toBeGreaterThan(0);
    await app.close();

    const reopened = sqliteMetering();
    const status = await reopened.status();
    expect(status.pending.map((p) => [p.hour, p.quantity])).toEqual([['2026-07-15T10:00:00.000Z', 5]]);
    await flushHour(emu, reopened);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(5);
  });

  it('leaves the engine running when manageLifecycle is false', async () => {
    const metering = sqliteMetering();
    const app = await appWith(metering, { manageLifecycle: false });
    await app.ready();
    await app.close();
    expect(await metering.status()).toMatchObject({ store: { kind: 'sqlite' } });
  });

  it('settles once the response finished, after the app\'s onResponse hooks: usage they record is billed, served by a node:http server or injected', async () => {
    const metering = meteringFor(emu);
    open.push(metering);
    await tenant(emu, metering, 'tenant-alice');
    const app: FastifyInstance = await appWith(metering);
    // A response closes after it was settled: the test waits for that, no timer.
    const closed: Array<Promise<void>> = [];
    app.addHook('onRequest', (_request, reply, done) => {
      closed.push(new Promise((resolve) => reply.raw.once('close', () => resolve())));
      done();
    });
    app.addHook('onResponse', (request, _reply, done) => {
      request.meter?.record('gb_processed', 2);
      done();
    });
    app.addHook('onResponse', async (request) => {
      request.meter?.record('gb_processed', 3);
    });
    app.get('/reports', { config: { metering: { dimension: 'api_calls' } } }, async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const served = await fetch(`http://127.0.0.1:${port}/reports`, { headers: { 'x-tenant': 'tenant-alice' } });
    expect(served.status).toBe(200);
    await served.text();
    expect((await app.inject({ url: '/reports', headers: { 'x-tenant': 'tenant-alice' } })).statusCode).toBe(200);
    await Promise.all(closed);
    await flushHour(emu, metering);
    await app.close();
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(2);
    expect(emu.inspect.totalFor({ dimension: 'gb_processed' })).toBe(10);
  });

  /** A request whose client disconnects while the handler is still working. */
  async function abortedRequest(policy?: CommitPolicy): Promise<void> {
    const metering = meteringFor(emu);
    open.push(metering);
    await tenant(emu, metering, 'tenant-alice');
    const app: FastifyInstance = await appWith(metering, policy === undefined ? {} : { commitPolicy: policy });
    let handlerStarted!: () => void;
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    let settled!: () => void;
    const responseClosed = new Promise<void>((resolve) => (settled = resolve));
    app.addHook('onRequest', async (_request, reply) => {
      reply.raw.once('close', () => setImmediate(settled));
    });
    app.get('/slow', { config: { metering: { dimension: 'api_calls' } } }, async (request) => {
      request.meter?.record('gb_processed', 9);
      handlerStarted();
      await new Promise((resolve) => request.raw.once('close', resolve));
      return { late: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };

    const client = httpRequest({ host: '127.0.0.1', port, path: '/slow', headers: { 'x-tenant': 'tenant-alice' } });
    client.on('error', () => undefined);
    client.end();
    await started;
    client.destroy();
    await responseClosed;

    await flushHour(emu, metering);
    await app.close();
  }

  it('does not bill a request whose client went away before the response', async () => {
    await abortedRequest();
    expect(emu.inspect.records()).toEqual([]);
  });

  it('bills aborted requests with commitAborted', async () => {
    await abortedRequest({ commitAborted: true });
    expect(emu.inspect.totalFor({ dimension: 'gb_processed' })).toBe(9);
    expect(emu.inspect.totalFor({ dimension: 'api_calls' })).toBe(1);
  });
});
