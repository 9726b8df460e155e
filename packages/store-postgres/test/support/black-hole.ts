import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL whose network can stop carrying data: black-holed, every connection, open or
 * new, is kept open but nothing is forwarded either way (no reset, no FIN), as when a firewall or a NAT drops a
 * flow. Healed, new connections are forwarded again; those stalled stay stalled until a side gives up on them.
 */
export interface BlackHoleProxy {
  readonly url: string;
  blackHole(): void;
  heal(): void;
  close(): Promise<void>;
}

interface Flow {
  readonly client: Socket;
  upstream?: Socket;
  stalled: boolean;
}

export async function startBlackHoleProxy(targetUrl: string): Promise<BlackHoleProxy> {
  const target = new URL(targetUrl);
  const flows = new Set<Flow>();
  let holed = false;
  const server = createServer((client) => {
    const flow: Flow = { client, stalled: holed };
    flows.add(flow);
    const end = () => {
      client.destroy();
      flow.upstream?.destroy();
      flows.delete(flow);
    };
    client.on('error', end).on('close', end);
    if (flow.stalled) return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    flow.upstream = upstream;
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (!flow.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!flow.stalled) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    blackHole() {
      holed = true;
      for (const flow of flows) flow.stalled = true;
    },
    heal() {
      holed = false;
    },
    async close() {
      for (const flow of flows) {
        flow.client.destroy();
        flow.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
