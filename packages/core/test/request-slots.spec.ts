import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reserveRequestSlot } from '../src';

describe('reserveRequestSlot()', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

  it('gives every request a node:http server serves each reserved property before the handler sees it, once however often it is reserved', async () => {
    const tag = Symbol('tag');
    reserveRequestSlot('slotA');
    reserveRequestSlot(tag);
    reserveRequestSlot('slotA');
    const seen: Array<{ a: boolean; tag: boolean; keysOfSlotA: number }> = [];
    server = createServer((request: IncomingMessage, response) => {
      const keys = Reflect.ownKeys(request);
      seen.push({ a: Object.hasOwn(request, 'slotA'), tag: Object.hasOwn(request, tag), keysOfSlotA: keys.filter((k) => k === 'slotA').length });
      response.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject).end();
      });
    }
    expect(seen).toEqual([
      { a: true, tag: true, keysOfSlotA: 1 },
      { a: true, tag: true, keysOfSlotA: 1 },
    ]);
  });
});
