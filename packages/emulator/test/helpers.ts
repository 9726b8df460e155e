import { MarketplaceAgreementClient } from '@aws-sdk/client-marketplace-agreement';
import { MarketplaceEntitlementServiceClient } from '@aws-sdk/client-marketplace-entitlement-service';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Emulator } from '../src';

export const HOUR = 3_600_000;

export function clientFor(emu: Emulator, region = 'us-east-1', accessKeyId = 'test'): MarketplaceMeteringClient {
  return new MarketplaceMeteringClient({ region, endpoint: emu.endpoint, credentials: { accessKeyId, secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** The real Entitlement Service client against the emulator (no retries: each call is one request). */
export function entitlementClientFor(emu: Emulator, region = 'us-east-1'): MarketplaceEntitlementServiceClient {
  return new MarketplaceEntitlementServiceClient({ region, endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** The real Agreement API client against the emulator. */
export function agreementClientFor(emu: Emulator, region = 'us-east-1'): MarketplaceAgreementClient {
  return new MarketplaceAgreementClient({ region, endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** Runs `fn` and returns the error it rejects with (fails the test if it resolves). */
export async function errorOf(fn: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A node:http receiver on 127.0.0.1:0 answering with `respond` (default 200). */
export async function receiver(respond: (r: Received, n: number) => { status: number; body?: string; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const out = respond(r, received.length);
      res.writeHead(out.status, out.headers ?? {});
      res.end(out.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
