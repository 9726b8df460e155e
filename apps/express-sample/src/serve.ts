import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MeterkitMiddleware } from '@meterkit/express';

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  /**
   * Graceful stop: stop accepting connections, let requests in flight finish (idle keep-alive connections are
   * closed), then persist all usage with `mk.close()`. Rejects if the usage could not be persisted.
   */
  stop(): Promise<void>;
}

export async function serve(app: Express, mk: MeterkitMiddleware, port: number, host: string): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    server,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => mk.close());
      return stopping;
    },
  };
}
