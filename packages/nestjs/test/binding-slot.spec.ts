import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bindingOf, meterOf, prepareBindingSlots, setBinding } from '../src/request-meter';

describe('the binding slot of a request', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

  it('is on every request a node:http server serves before the app sees it: binding a request adds no property to it (on Express each added property builds a hidden class)', async () => {
    prepareBindingSlots();
    prepareBindingSlots();
    const seen: Array<{ added: number; bound: unknown; meter: unknown }> = [];
    server = createServer((request: IncomingMessage, response) => {
      const keys = Reflect.ownKeys(request).length;
      const unbound = bindingOf(request);
      setBinding(request, { meter: null });
      seen.push({ added: Reflect.ownKeys(request).length - keys, bound: unbound, meter: meterOf(request) });
      response.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject).end();
      });
    }
    expect(seen).toEqual(Array.from({ length: 3 }, () => ({ added: 0, bound: undefined, meter: null })));
  });
});
