import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { settleOnFinish, watchServerResponses, type ResponseSettler } from '../src/http/settle-on-finish';

/** What one settler saw: the binding's name and whether its response finished, once per settle. */
interface Settled {
  readonly name: string;
  readonly finished: boolean;
}

interface Binding {
  readonly name: string;
  readonly response: ServerResponse;
}

/** One settler per adapter instance, shared by its requests: it records what it settled. */
function settlerInto(log: Settled[]): ResponseSettler<Binding> {
  return {
    settle: ({ name, response }, finished) => {
      expect(response.writableFinished).toBe(finished);
      log.push({ name, finished });
    },
  };
}

/** A node:http server whose handler is given per test; answers are under the test's control. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

/** Sends a request and destroys it once the server holds it; resolves when the server's response closed. */
function abandon(port: number, path: string, held: Promise<ServerResponse>): Promise<void> {
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false });
  req.on('error', () => undefined);
  req.end();
  return held.then(
    (res) =>
      new Promise<void>((resolve) => {
        res.once('close', () => setImmediate(resolve));
        req.destroy();
      }),
  );
}

/** A response no node:http server published: emits 'finish' and 'close' as Fastify's inject or HTTP/2 compat do. */
class DetachedResponse extends EventEmitter {
  writableFinished = false;
  finish(): void {
    this.writableFinished = true;
    this.emit('finish');
    process.nextTick(() => this.emit('close'));
  }
  close(): void {
    this.emit('close');
  }
}

/** Node's module object itself (a namespace import would be a copy), so that a spy sees the package's calls. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const diagnostics = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('settleOnFinish (the core\'s request-path settle)', () => {
  let server: Server | undefined;
  beforeAll(() => watchServerResponses());
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
  });

  it('settles a response a node:http server finished once, after its \'finish\' listeners, with no listener of its own', async () => {
    const log: Settled[] = [];
    const order: string[] = [];
    const settler = settlerInto(log);
    const listeners: number[] = [];
    ({ server } = await serve((_req, res) => {
      const before = res.listenerCount('finish') + res.listenerCount('close');
      settleOnFinish(res, { settle: (b: Binding, finished) => (order.push('settle'), settler.settle(b, finished)) }, { name: 'one', response: res }, false);
      listeners.push(res.listenerCount('finish') + res.listenerCount('close') - before);
      res.on('finish', () => order.push('app finish listener'));
      res.end('ok');
    }));
    const { port } = server.address() as AddressInfo;
    expect(await get(port, '/')).toBe(200);
    await turn();
    expect(log).toEqual([{ name: 'one', finished: true }]);
    expect(order).toEqual(['app finish listener', 'settle']);
    expect(listeners).toEqual([0]);
  });

  it('never settles an aborted response by default; with settleClosed settles it once, unfinished, from one shared close listener', async () => {
    for (const settleClosed of [false, true]) {
      const log: Settled[] = [];
      const settler = settlerInto(log);
      let hold!: (res: ServerResponse) => void;
      const held = new Promise<ServerResponse>((resolve) => (hold = resolve));
      const started = await serve((_req, res) => {
        settleOnFinish(res, settler, { name: 'gone', response: res }, settleClosed);
        hold(res);
      });
      server = started.server;
      await abandon(started.port, '/', held);
      await turn();
      expect(log).toEqual(settleClosed ? [{ name: 'gone', finished: false }] : []);
      await new Promise((resolve) => started.server.close(resolve));
      server = undefined;
    }
  });

  it('settles a response no server published for (inject, HTTP/2 compat) by its own listeners: once when finished, aborted only with settleClosed', async () => {
    const log: Settled[] = [];
    const settler = settlerInto(log);
    const finished = new DetachedResponse();
    settleOnFinish(finished, settler, { name: 'finished', response: finished as unknown as ServerResponse }, true);
    finished.finish();
    await turn();
    const closed = new DetachedResponse();
    settleOnFinish(closed, settler, { name: 'closed', response: closed as unknown as ServerResponse }, true);
    closed.close();
    const dropped = new DetachedResponse();
    settleOnFinish(dropped, settler, { name: 'dropped', response: dropped as unknown as ServerResponse }, false);
    dropped.close();
    await turn();
    expect(log).toEqual([
      { name: 'finished', finished: true },
      { name: 'closed', finished: false },
    ]);
  });

  it('settles responses that finish together in the order they finished, after the ticks their finish listeners queued and before the next turn', async () => {
    const order: string[] = [];
    const settler: ResponseSettler<string> = { settle: (name) => order.push(`settle ${name}`) };
    const responses = ['a', 'b', 'c'].map((name) => {
      const res = new DetachedResponse();
      settleOnFinish(res, settler, name, false);
      res.on('finish', () => process.nextTick(() => order.push(`tick after ${name}`)));
      return res;
    });
    // From a callback of the event loop, as Node emits a response's 'finish'.
    setImmediate(() => {
      for (const res of responses) res.finish();
      order.push('finished');
      setImmediate(() => order.push('next turn'));
    });
    await turn();
    await turn();
    expect(order).toEqual(['finished', 'tick after a', 'tick after b', 'tick after c', 'settle a', 'settle b', 'settle c', 'next turn']);
  });

  it('still settles the responses queued after a settler that throws; the error reaches the process as an unhandled rejection', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, 'support', 'throwing-settler-child.js')]);
    expect(JSON.parse(stdout)).toEqual({ log: ['before', 'after'], rejections: ['settler broke its contract'] });
  });

  it('settles each binding once when two instances bind the same response, and across two copies of the module', async () => {
    const log: Settled[] = [];
    let copy!: typeof import('../src/http/settle-on-finish');
    jest.isolateModules(() => {
      copy = jest.requireActual('../src/http/settle-on-finish');
    });
    const subscribe = jest.spyOn(diagnostics, 'subscribe');
    copy.watchServerResponses();
    watchServerResponses();
    // The process is already subscribed: neither copy subscribes again.
    expect(subscribe).not.toHaveBeenCalled();
    subscribe.mockRestore();
    ({ server } = await serve((_req, res) => {
      settleOnFinish(res, settlerInto(log), { name: 'first', response: res }, true);
      copy.settleOnFinish(res, settlerInto(log), { name: 'second', response: res }, true);
      res.end();
    }));
    const { port } = server.address() as AddressInfo;
    await get(port, '/');
    await turn();
    expect(log.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'first', finished: true },
      { name: 'second', finished: true },
    ]);
  });

  it('settles every binding exactly once if its response finished, or was abandoned with settleClosed, and never otherwise, whatever the mix of servers and responses (property)', async () => {
    const step = fc.record({
      published: fc.boolean(),
      finishes: fc.boolean(),
      settleClosed: fc.boolean(),
      bindings: fc.integer({ min: 0, max: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const log: Settled[] = [];
        const settlers = [settlerInto(log), settlerInto(log)];
        const holds = new Map<string, (res: ServerResponse) => void>();
        const started = await serve((req, res) => {
          const [, index, bindings, settleClosed, finishes] = (req.url ?? '').split('/');
          for (let b = 0; b < Number(bindings); b++) settleOnFinish(res, settlers[b]!, { name: `${index}.${b}`, response: res }, settleClosed === '1');
          if (finishes === '1') res.end();
          else holds.get(index!)!(res);
        });
        try {
          for (const [index, s] of steps.entries()) {
            const path = `/${index}/${s.bindings}/${s.settleClosed ? 1 : 0}/${s.finishes ? 1 : 0}`;
            if (s.published) {
              if (s.finishes) await get(started.port, path);
              else await abandon(started.port, path, new Promise((resolve) => holds.set(String(index), resolve)));
            } else {
              const res = new DetachedResponse();
              for (let b = 0; b < s.bindings; b++) settleOnFinish(res, settlers[b]!, { name: `${index}.${b}`, response: res as unknown as ServerResponse }, s.settleClosed);
              if (s.finishes) res.finish();
              else res.close();
            }
            await turn();
          }
          const expected = steps.flatMap((s, index) =>
            s.finishes || s.settleClosed ? Array.from({ length: s.bindings }, (_, b) => ({ name: `${index}.${b}`, finished: s.finishes })) : [],
          );
          expect(log).toEqual(expected);
        } finally {
          await new Promise((resolve) => started.server.close(resolve));
        }
      }),
      { numRuns: 25 },
    );
  });
});
