import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEvents } from '../events';
import type { Metering } from '../metering';
import { presentedToken, sameToken, sessionCookie, sessionValue, tokenInQuery, validSession, type HeaderValue } from './status-page/access';
import { collectStatusPageData } from './status-page/data';
import { CONTENT_SECURITY_POLICY, LOGIN_CONTENT_SECURITY_POLICY, renderLoginPage, renderStatusPage } from './status-page/html';
import { RecentErrors } from './status-page/recent-errors';

export type { StatusPageData, UsageBar } from './status-page/data';
export type { CustomerHour, CustomerPage, CustomerRow, StateTotals } from './status-page/customers';
export type { RecentError } from './status-page/recent-errors';
export type { ContractsOverview, StatusPageEntitlements } from './status-page/contracts';

/** What an adapter hands the status page: the request line, headers and, for the login form's POST, its body. */
export interface StatusPageRequest {
  readonly method: string;
  /** The path and query as received, e.g. `/meterkit/status?page=2` (an absolute URL works too). */
  readonly url: string;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** A POST's form body (`application/x-www-form-urlencoded`), as text or as the fields your framework parsed. */
  readonly body?: string | Readonly<Record<string, unknown>>;
  /** True when the request came over HTTPS (your framework's `req.secure` / `request.protocol`): the session cookie is then Secure. */
  readonly secure?: boolean;
}

/** What the adapter writes back: status code, headers and a UTF-8 body. */
export interface StatusPageResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface StatusPageOptions {
  /**
   * Secret that opens the page, at least 16 characters: sent as `Authorization: Bearer <token>` or `x-meterkit-token`,
   * or typed once into the page's login form, which sets a session cookie. Never in the query string (refused).
   */
  readonly token?: string;
  /** Your own check (an admin session, an internal network): true lets the request in. */
  readonly guard?: (request: StatusPageRequest) => boolean | Promise<boolean>;
  /** How many recent errors (from `metering.on('error')`) the page keeps. Default 20, 0 to show none. */
  readonly recentErrors?: number;
  /** Where the page is mounted: `GET <path>` is HTML, `GET <path>.json` JSON, `POST <path>` the login form. Default `'/meterkit/status'`. */
  readonly path?: string;
  /** How long a login lasts, ms. Default 12 h (43 200 000), between 1 min and 30 days. */
  readonly sessionMs?: number;
  /** Customers per page of the per-customer view (`?page=N` for the others). Default 50, between 1 and 1000. */
  readonly customersPerPage?: number;
  /** The HTML page reloads itself every this many seconds. Default 30; 0 never, else between 5 and 3600. */
  readonly refreshSeconds?: number;
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const QUERY_TOKEN_MESSAGE =
  'A token in the URL is refused: URLs end up in access logs, proxies and browser history. Send it as ' +
  '`Authorization: Bearer <token>` or `x-meterkit-token: <token>`, or open the page without it and log in with the form.';

/**
 * A framework-neutral status page for operators: counts, window headroom, the last successful send, a 24-hour usage
 * chart, a per-customer view (with a contract customer's entitlements and their last refresh) and recent errors, as
 * HTML (no script, no external asset, strict CSP, reloading itself) or JSON. Off unless a token or a guard is given. A request passes when it carries the token in a header, the
 * session cookie of the login form, or the guard accepts it; a token in the query string is refused.
 *
 * @example
 * const page = new StatusPage(metering, { token: process.env.METERKIT_STATUS_TOKEN });
 * app.all(['/meterkit/status', '/meterkit/status.json'], express.urlencoded({ extended: false }), async (req, res) => {
 *   const r = await page.handle({ method: req.method, url: req.originalUrl, headers: req.headers, body: req.body, secure: req.secure });
 *   res.status(r.status).set(r.headers).send(r.body);
 * });
 */
export class StatusPage {
  readonly path: string;
  private readonly token: string | undefined;
  private readonly guard: StatusPageOptions['guard'];
  private readonly errors: RecentErrors;
  private readonly onError: (event: MeteringEvents['error']) => void;
  private readonly sessionMs: number;
  private readonly perPage: number;
  private readonly refreshSeconds: number;

  constructor(
    private readonly metering: Metering,
    options: StatusPageOptions = {},
  ) {
    const fail = (message: string): never => {
      throw new MeterkitError(ErrorCodes.OPTIONS, message);
    };
    const integer = (name: string, value: unknown, fallback: number, min: number, max: number, zero = false): number => {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || ((value < min || value > max) && !(zero && value === 0))) {
        fail(`StatusPage ${name} must be an integer between ${min} and ${max}${zero ? ' or 0' : ''}, got ${String(value)}.`);
      }
      return value as number;
    };
    if (options.token === undefined && options.guard === undefined) {
      fail('StatusPage is off unless you give it a `token` or a `guard`: it shows what your customers use.');
    }
    if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 16)) {
      fail('StatusPage token must be a string of at least 16 characters.');
    }
    if (options.guard !== undefined && typeof options.guard !== 'function') fail('StatusPage guard must be a function.');
    const capacity = integer('recentErrors', options.recentErrors, 20, 0, 1000);
    this.sessionMs = integer('sessionMs', options.sessionMs, 12 * 3_600_000, 60_000, 30 * 86_400_000);
    this.perPage = integer('customersPerPage', options.customersPerPage, 50, 1, 1000);
    this.refreshSeconds = integer('refreshSeconds', options.refreshSeconds, 30, 5, 3600, true);
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
    if (tokenInQuery(url)) return refusal(400, json, 'token_in_query', QUERY_TOKEN_MESSAGE);
    const login = this.token !== undefined && pathname === this.path;
    if (request.method === 'POST' && login) return this.login(request);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { ...text(405, 'Method not allowed'), headers: { ...text(405, '').headers, allow: login ? 'GET, HEAD, POST' : 'GET, HEAD' } };
    }
    if (!(await this.allowed(request))) {
      return json || this.token === undefined
        ? refusal(401, json, 'unauthorized', this.token === undefined ? 'This page needs access granted by the app.' : 'Send the status page token in a header.')
        : this.loginPage(401, undefined);
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    const data = await collectStatusPageData(this.metering, this.errors.list(), { page: Number.isInteger(page) && page > 0 ? page : 1, perPage: this.perPage });
    const body = json
      ? `${JSON.stringify(data, null, 2)}\n`
      : renderStatusPage(data, { now: this.metering.now(), refreshSeconds: this.refreshSeconds, self: lastSegment(this.path), logout: this.token !== undefined });
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

  private async allowed(request: StatusPageRequest): Promise<boolean> {
    if (this.token !== undefined) {
      if (sameToken(presentedToken(request.headers), this.token)) return true;
      if (validSession(request.headers, this.token, this.metering.now())) return true;
    }
    if (this.guard === undefined) return false;
    try {
      return (await this.guard(request)) === true;
    } catch {
      return false;
    }
  }

  /** The login form's POST: `token=<token>` sets the session cookie, `logout=1` clears it; both redirect to the page. */
  private login(request: StatusPageRequest): StatusPageResponse {
    const token = this.token!;
    if (crossSite(request.headers)) return refusal(403, false, 'cross_site', 'The login form only accepts posts from this site.');
    const form = formFields(request.body);
    const secure = request.secure === true;
    const back = { ...BASE_HEADERS, location: lastSegment(this.path), 'content-type': 'text/plain; charset=utf-8' };
    if (form.get('logout') !== null) {
      return { status: 303, headers: { ...back, 'set-cookie': sessionCookie('', 0, secure) }, body: 'Logged out.' };
    }
    if (!sameToken(form.get('token') ?? undefined, token)) return this.loginPage(401, 'Wrong token.');
    const expiresAt = this.metering.now() + this.sessionMs;
    return {
      status: 303,
      headers: { ...back, 'set-cookie': sessionCookie(sessionValue(token, expiresAt), Math.floor(this.sessionMs / 1000), secure) },
      body: 'Logged in.',
    };
  }

  private loginPage(status: number, problem: string | undefined): StatusPageResponse {
    return {
      status,
      headers: { ...BASE_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': LOGIN_CONTENT_SECURITY_POLICY, 'www-authenticate': 'Bearer' },
      body: renderLoginPage(lastSegment(this.path), problem),
    };
  }
}

/** The page's own name, relative to where it is: the form posts and redirects there whatever prefix the app adds. */
function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || '.';
}

/**
 * A POST the browser says came from another site (`Sec-Fetch-Site`), or whose Origin names another host than the one
 * it was sent to. (With `Referrer-Policy: no-referrer` browsers send `Origin: null` for the page's own form.)
 */
function crossSite(headers: Readonly<Record<string, HeaderValue>>): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = headers['origin'];
  const host = headers['host'];
  if (typeof origin !== 'string' || typeof host !== 'string' || origin === 'null') return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

function formFields(body: StatusPageRequest['body']): URLSearchParams {
  if (body === undefined) return new URLSearchParams();
  if (typeof body === 'string') return new URLSearchParams(body.length > 4096 ? '' : body);
  const fields = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields.set(name, value);
  return fields;
}

function refusal(status: number, json: boolean, error: string, message: string): StatusPageResponse {
  const headers = { ...BASE_HEADERS, ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) };
  return json
    ? { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(status === 401 ? { error } : { error, message }) }
    : { status, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` };
}

function text(status: number, body: string): StatusPageResponse {
  return { status, headers: { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body };
}
