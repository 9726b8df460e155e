import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LifecycleReceiver, type LifecycleRouteOptions, type Metering } from '../../src';

/** A plain node:http server feeding deliveries to a LifecycleReceiver, as an adapter's route does. */
export async function startEventReceiver(
  metering: () => Metering,
  options: Omit<LifecycleRouteOptions, 'path'>,
): Promise<{ url: string; close(): Promise<void> }> {
  let receiver: LifecycleReceiver | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver ??= new LifecycleReceiver(metering(), { path: '/events', ...options });
      receiver.handle({ headers: req.headers, body: Buffer.concat(chunks) }).then((result) => {
        res.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/events`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
