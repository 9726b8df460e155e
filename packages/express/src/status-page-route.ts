import { StatusPage, type Metering, type StatusPageRequest } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { StatusPageRouteOptions } from './options';

/** The status page request as the core sees it, carrying the Express request for the app's guard. */
interface GuardedRequest extends StatusPageRequest {
  readonly expressRequest: Request;
}

function trimmed(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/**
 * The core's StatusPage on GET/HEAD `<path>` (HTML) and `<path>.json`, answered with the core's status, headers
 * (CSP, no-store) and body. Other methods and paths fall through. Throws ERR_METERKIT_OPTIONS without a token or guard.
 */
export function statusPageRoute(metering: Metering, options: StatusPageRouteOptions): { handler: RequestHandler; page: StatusPage } {
  const guard = options.guard;
  const page = new StatusPage(metering, {
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(guard === undefined ? {} : { guard: (request: StatusPageRequest) => guard((request as GuardedRequest).expressRequest) }),
    ...(options.recentErrors === undefined ? {} : { recentErrors: options.recentErrors }),
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  const json = `${page.path}.json`;

  const handler = function meterkitStatusPage(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = trimmed(req.path);
    if (path !== page.path && path !== json) return next();
    // Relative to where meterkit is mounted, so the core sees its own path whatever the app's prefix.
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const request: GuardedRequest = { method: req.method, url: `${path}${query}`, headers: req.headers, expressRequest: req };
    page.handle(request).then((answer) => {
      res.status(answer.status).set(answer.headers).end(answer.body);
    }, next);
  };
  return { handler, page };
}
