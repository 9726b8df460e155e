/** Admin and inspection HTTP API under /_emulator (JSON in, JSON out). Faults never apply here. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeJson } from '../http/aws-json';
import { snsSigningMaterial, SNS_CERT_PATH } from '../lifecycle/sns-notifications';
import type { Emulator } from '../types';

const JSON_TYPE = 'application/json; charset=utf-8';

function parseTime(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isFinite(n)) return n;
  }
  throw new TypeError(`Not a time: ${String(v)}`);
}

/** What GET /_emulator/clock answers: enough for another process to follow the clock between readings. */
export interface ClockView {
  /** Emulated time (ms epoch). */
  now: number;
  iso: string;
  /** Emulated milliseconds per real millisecond. */
  speed: number;
  /** Changes with every set, advance or speed change. */
  generation: number;
}

function clockView(e: Emulator): ClockView {
  const now = e.clock.now();
  return { now, iso: new Date(now).toISOString(), speed: e.clock.speed, generation: e.clock.generation };
}

export function createAdminHandler(emu: () => Emulator) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> => {
    const e = emu();
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    const ok = (data: unknown, status = 200) => writeJson(res, status, data, JSON_TYPE);
    let input: Record<string, unknown> = {};
    try {
      const text = body.toString('utf8').trim();
      if (text) input = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return ok({ error: 'Body must be JSON' }, 400);
    }
    const str = (k: string): string => {
      const v = input[k] ?? url.searchParams.get(k);
      if (typeof v !== 'string' || !v) throw new TypeError(`'${k}' is required`);
      return v;
    };
    try {
      switch (route) {
        case 'GET /_emulator':
        case 'GET /_emulator/health':
          return ok({ ok: true, region: e.region, endpoint: e.endpoint, now: e.clock.now() });
        case 'GET /_emulator/records':
          return ok(e.inspect.records());
        case 'GET /_emulator/totals':
          return ok(e.inspect.totals());
        case 'GET /_emulator/calls':
          return ok(e.inspect.calls(url.searchParams.get('operation') ?? undefined));
        case 'GET /_emulator/rejected':
          return ok(e.inspect.rejected());
        case 'GET /_emulator/duplicates':
          return ok(e.inspect.duplicates());
        case 'GET /_emulator/events':
          return ok(e.inspect.events());
        case 'GET /_emulator/summary': {
          const calls = e.inspect.calls();
          const byOp: Record<string, { calls: number; records: number; errors: Record<string, number> }> = {};
          for (const c of calls) {
            const s = (byOp[c.operation] ??= { calls: 0, records: 0, errors: {} });
            s.calls++;
            s.records += c.records ?? 0;
            if (c.error) s.errors[c.error] = (s.errors[c.error] ?? 0) + 1;
          }
          return ok({ operations: byOp, records: e.inspect.records().length, duplicates: e.inspect.duplicates().length, events: e.inspect.events().length, totals: e.inspect.totals() });
        }
        case 'GET /_emulator/products':
          return ok(e.products());
        case 'POST /_emulator/products':
          e.addProduct(input as never);
          return ok(e.products(), 201);
        case 'GET /_emulator/buyers':
          return ok(e.buyers());
        case 'POST /_emulator/subscribe':
          return ok(await e.subscribe(input as never), 201);
        case 'POST /_emulator/cancel':
          await e.cancel(str('id'));
          return ok({ ok: true });
        case 'POST /_emulator/renew':
          return ok(await e.renew(str('id'), input.dimensions === undefined ? {} : { dimensions: input.dimensions as never }));
        case 'POST /_emulator/replace':
          return ok(await e.replace(str('id')));
        case 'POST /_emulator/amend':
          await e.amend(str('id'), input.dimensions === undefined ? {} : { dimensions: input.dimensions as never });
          return ok({ ok: true });
        case 'POST /_emulator/expire':
          await e.expire(str('id'));
          return ok({ ok: true });
        case 'GET /_emulator/entitlements':
          return ok(e.entitlements.list(url.searchParams.get('productCode') ?? undefined));
        case 'GET /_emulator/entitlements/settings':
          return ok(e.entitlements.settings());
        case 'POST /_emulator/entitlements/settings':
          return ok(e.entitlements.configure(input as never));
        case 'POST /_emulator/tokens':
          return ok({ token: e.issueToken(str('id')) }, 201);
        case 'GET /_emulator/clock':
          return ok(clockView(e));
        case 'POST /_emulator/clock': {
          if (input.speed !== undefined) e.clock.setSpeed(Number(input.speed));
          if (input.set !== undefined) e.clock.set(parseTime(input.set));
          if (input.advance !== undefined) {
            const ms = Number(input.advance);
            if (!Number.isFinite(ms)) throw new TypeError("'advance' must be milliseconds");
            e.clock.advance(ms);
          }
          return ok(clockView(e));
        }
        case 'GET /_emulator/faults':
          return ok(e.faults.current());
        case 'POST /_emulator/faults':
          e.faults.set(input as never);
          return ok(e.faults.current());
        case 'POST /_emulator/faults/fail-next':
          e.faults.failNext(str('operation'), str('error'), input.count === undefined ? 1 : Number(input.count));
          return ok({ ok: true });
        case 'POST /_emulator/faults/reset':
          e.faults.reset();
          return ok(e.faults.current());
        case 'POST /_emulator/reset':
          e.reset();
          return ok({ ok: true });
        case 'GET /_emulator/public-key': {
          const v = url.searchParams.get('version');
          const pem = e.publicKeyPem(v ? Number(v) : undefined);
          res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) });
          res.end(pem);
          return;
        }
        case 'POST /_emulator/public-key/rotate':
          return ok({ version: e.rotatePublicKey() }, 201);
        case `GET ${SNS_CERT_PATH}`: {
          const { cert } = snsSigningMaterial();
          res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(cert) });
          res.end(cert);
          return;
        }
        case 'GET /_emulator/sns/unsubscribe':
          return ok({ ok: true });
        default:
          return ok({ error: `No admin route ${route}` }, 404);
      }
    } catch (err) {
      return ok({ error: (err as Error).message }, 400);
    }
  };
}
