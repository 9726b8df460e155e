import { StatusPage, type Metering, type StatusPageRequest } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { StatusPageRouteOptions } from './options';

/** The status page request as the core sees it, carrying the Express request for the app's guard. */
interface GuardedRequest extends StatusPageRequest {
  readonly expressRequest: Request;
}

/** The login form's body is one short field: anything longer is not read. */
const MAX_FORM_BYTES = 4096;

function trimmed(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** The URL with any `token` query parameter's value hidden, for what logs the request after us (morgan, pino-http). */
function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[hidden]');
}

/** The login form's fields: as a body parser of the app left them, else read here (urlencoded, at most 4 KB). */
async function formBody(req: Request): Promise<StatusPageRequest['body']> {
  const parsed: unknown = req.body;
  if (typeof parsed === 'string') return parsed;
  if (Buffer.isBuffer(parsed)) return parsed.toString('utf8');
  if (parsed !== null && typeof parsed === 'object') return parsed as Record<string, unknown>;
  if (req.readableEnded || !(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The core's StatusPage on GET/HEAD `<path>` (HTML) and `<path>.json`, and its login form on POST `<path>`, answered
 * with the core's status, headers (CSP, no-store, the session cookie) and body. Other methods and paths fall through.
 * A `?token=` is refused by the core and hidden from the request's URL for access logs written after the response.
 * Throws ERR_METERKIT_OPTIONS without a token or guard.
 */
export function statusPageRoute(metering: Metering, options: StatusPageRouteOptions): { handler: RequestHandler; page: StatusPage } {
  const guard = options.guard;
  const page = new StatusPage(metering, {
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(guard === undefined ? {} : { guard: (request: StatusPageRequest) => guard((request as GuardedRequest).expressRequest) }),
    ...(options.recentErrors === undefined ? {} : { recentErrors: options.recentErrors }),
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.sessionMs === undefined ? {} : { sessionMs: options.sessionMs }),
    ...(options.customersPerPage === undefined ? {} : { customersPerPage: options.customersPerPage }),
    ...(options.refreshSeconds === undefined ? {} : { refreshSeconds: options.refreshSeconds }),
  });
  const json = `${page.path}.json`;

  const handler = function meterkitStatusPage(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return next();
    const path = trimmed(req.path);
    if (path !== page.path && path !== json) return next();
    // Relative to where meterkit is mounted, so the core sees its own path whatever the app's prefix.
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    if (/[?&]token=/i.test(query)) {
      req.originalUrl = withoutToken(req.originalUrl);
      req.url = withoutToken(req.url);
    }
    const answer = async () => {
      const body = req.method === 'POST' ? await formBody(req) : undefined;
      const request: GuardedRequest = {
        method: req.method,
        url: `${path}${query}`,
        headers: req.headers,
        ...(body === undefined ? {} : { body }),
        secure: req.secure,
        expressRequest: req,
      };
      return page.handle(request);
    };
    answer().then((r) => {
      res.status(r.status).set(r.headers).end(r.body);
    }, next);
  };
  return { handler, page };
}
