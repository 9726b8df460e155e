import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEvents } from '../events';
import type { Metering } from '../metering';
import { presentedToken, sameToken, type HeaderValue } from './status-page/access';
import { collectStatusPageData } from './status-page/data';
import { CONTENT_SECURITY_POLICY, renderStatusPage, renderUnauthorizedPage } from './status-page/html';
import { RecentErrors } from './status-page/recent-errors';

export type { StatusPageData, UsageBar } from './status-page/data';
export type { RecentError } from './status-page/recent-errors';

/** What an adapter hands the status page: the request line and headers (no body is read). */
export interface StatusPageRequest {
  readonly method: string;
  /** The path and query as received, e.g. `/meterkit/status?token=…` (an absolute URL works too). */
  readonly url: string;
  readonly headers: Readonly<Record<string, HeaderValue>>;
}

/** What the adapter writes back: status code, headers and a UTF-8 body. */
export interface StatusPageResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface StatusPageOptions {
  /** Secret that opens the page, sent as `Authorization: Bearer <token>` or `?token=`. At least 16 characters. */
  readonly token?: string;
  /** Your own check (an admin session, an internal network): true lets the request in. */
  readonly guard?: (request: StatusPageRequest) => boolean | Promise<boolean>;
  /** How many recent errors (from `metering.on('error')`) the page keeps. Default 20, 0 to show none. */
  readonly recentErrors?: number;
  /** Where the page is mounted: `GET <path>` is HTML, `GET <path>.json` JSON. Default `'/meterkit/status'`. */
  readonly path?: string;
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * A framework-neutral status page for operators: counts, window headroom, a 24-hour usage chart and recent
 * errors, as HTML (no script, no external asset, strict CSP) or JSON. Off unless a token or a guard is given.
 * A request passes when it carries the token or the guard accepts it.
 *
 * @example
 * const page = new StatusPage(metering, { token: process.env.METERKIT_STATUS_TOKEN });
 * app.get(['/meterkit/status', '/meterkit/status.json'], async (req, res) => {
 *   const r = await page.handle({ method: req.method, url: req.originalUrl, headers: req.headers });
 *   res.status(r.status).set(r.headers).send(r.body);
 * });
 */
export class StatusPage {
  readonly path: string;
  private readonly token: string | undefined;
  private readonly guard: StatusPageOptions['guard'];
  private readonly errors: RecentErrors;
  private readonly onError: (event: MeteringEvents['error']) => void;

  constructor(
    private readonly metering: Metering,
    options: StatusPageOptions = {},
  ) {
    const fail = (message: string): never => {
      throw new MeterkitError(ErrorCodes.OPTIONS, message);
    };
    if (options.token === undefined && options.guard === undefined) {
      fail('StatusPage is off unless you give it a `token` or a `guard`: it shows what your customers use.');
    }
    if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 16)) {
      fail('StatusPage token must be a string of at least 16 characters.');
    }
    if (options.guard !== undefined && typeof options.guard !== 'function') fail('StatusPage guard must be a function.');
    const capacity = options.recentErrors ?? 20;
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 1000) fail('StatusPage recentErrors must be an integer between 0 and 1000.');
    const path = options.path ?? '/meterkit/status';
    if (typeof path !== 'string' || !path.startsWith('/')) fail('StatusPage path must start with "/".');
    this.path = path.length > 1 ? path.replace(/\/+$/, '') : path;
    this.token = options.token;
    this.guard = options.guard;
    this.errors = new RecentErrors(capacity);
    this.onError = ({ error }) => this.errors.add(error, metering.now());
    metering.on('error', this.onError);
  }

  async handle(request: StatusPageRequest): Promise<StatusPageResponse> {
    const url = new URL(request.url, 'http://status.invalid');
    const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const json = pathname === `${this.path}.json` || (pathname === this.path && url.searchParams.get('format') === 'json');
    if (pathname !== this.path && pathname !== `${this.path}.json`) return text(404, 'Not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return { ...text(405, 'Method not allowed'), headers: { ...text(405, '').headers, allow: 'GET, HEAD' } };
    if (!(await this.allowed(request, url))) {
      return json
        ? { status: 401, headers: { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' }, body: '{"error":"unauthorized"}' }
        : {
            status: 401,
            headers: { ...BASE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'", 'www-authenticate': 'Bearer' },
            body: renderUnauthorizedPage(),
          };
    }
    const data = await collectStatusPageData(this.metering, this.errors.list());
    const body = json ? `${JSON.stringify(data, null, 2)}\n` : renderStatusPage(data);
    return {
      status: 200,
      headers: {
        ...BASE_HEADERS,
        'content-type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
        'content-security-policy': json ? "default-src 'none'" : CONTENT_SECURITY_POLICY,
      },
      body: request.method === 'HEAD' ? '' : body,
    };
  }

  /** Stops collecting errors from the Metering instance. */
  close(): void {
    this.metering.off('error', this.onError);
  }

  private async allowed(request: StatusPageRequest, url: URL): Promise<boolean> {
    if (this.token !== undefined && sameToken(presentedToken(request.headers, url), this.token)) return true;
    if (this.guard === undefined) return false;
    try {
      return (await this.guard(request)) === true;
    } catch {
      return false;
    }
  }
}

function text(status: number, body: string): StatusPageResponse {
  return { status, headers: { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body };
}
