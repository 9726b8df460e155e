import { createHash } from 'node:crypto';
import { SWATCH_CSS, usageChart } from './chart';
import type { StatusPageEntitlements } from './contracts';
import type { CustomerHour, CustomerPage } from './customers';
import type { StatusPageData } from './data';
import { escapeHtml } from './escape';
import { readableDuration, readableTime, utcMinute } from './time';

const CSS =
  'body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#0f172a;background:#f8fafc}' +
  'h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:24px 0 8px}.muted{color:#64748b}' +
  '.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px;min-width:120px}' +
  '.card .n{font-size:24px;font-weight:600}.bad .n{color:#b91c1c}.warn .n{color:#b45309}' +
  'svg{width:100%;max-width:760px;background:#fff;border:1px solid #e2e8f0;border-radius:8px}' +
  '.legend{margin-top:6px}.key{margin-right:12px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}' +
  'table{border-collapse:collapse;background:#fff}td,th{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;font-size:13px}' +
  'td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.top{display:flex;justify-content:space-between;align-items:baseline;gap:12px}' +
  'button{font:inherit;padding:4px 10px;border:1px solid #cbd5e1;border-radius:6px;background:#fff;cursor:pointer}' +
  '.pager a{margin-right:8px}.bad-text{color:#b91c1c}#customers td{white-space:nowrap}' +
  SWATCH_CSS;

const LOGIN_CSS =
  'body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:48px auto;max-width:420px;color:#0f172a;background:#f8fafc}' +
  'h1{font-size:20px}form{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px;display:flex;flex-direction:column;gap:8px}' +
  'input{font:inherit;padding:6px 8px;border:1px solid #cbd5e1;border-radius:6px}button{font:inherit;padding:6px 10px;border-radius:6px;border:0;background:#2563eb;color:#fff}' +
  '.problem{color:#b91c1c}.muted{color:#64748b}';

const styleHash = (css: string) => `'sha256-${createHash('sha256').update(css).digest('base64')}'`;

/** The page's only style sheet, allowed by its hash: the CSP needs no 'unsafe-inline'. Forms post to the page only (log out). */
export const CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src ${styleHash(CSS)}; ` + "img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The login page: its own style sheet, a form that posts to the page. */
export const LOGIN_CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src ${styleHash(LOGIN_CSS)}; ` + "img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** How the HTML page is drawn: the time it is read at, its reload period, its own relative URL, whether it has a login to end. */
export interface PageView {
  readonly now: number;
  readonly refreshSeconds: number;
  readonly self: string;
  readonly logout: boolean;
}

function hourCells(hour: CustomerHour): string {
  const cell = (t: { records: number; quantity: number }, tone = '') =>
    `<td class="n${t.records > 0 && tone !== '' ? ` ${tone}` : ''}" title="${t.records} record(s)">${t.records === 0 ? '·' : `${t.quantity} <span class="muted">(${t.records})</span>`}</td>`;
  return cell(hour.pending) + cell(hour.sent) + cell(hour.failed, 'bad-text');
}

/** A contract customer's values (each with its expiry in the tooltip) and the last refresh with its trigger. */
function entitlementCells(set: StatusPageEntitlements | undefined, now: number): string {
  if (set === undefined) return '<td class="muted">—</td><td class="muted">—</td>';
  const values =
    set.values.length === 0
      ? `<span class="${set.revoked ? 'bad-text' : 'muted'}">${set.revoked ? 'revoked' : 'none'}</span>`
      : set.values
          .map((v) => `<span title="${escapeHtml(v.expiresAt === undefined ? 'no expiry given' : `until ${readableTime(v.expiresAt, now)}`)}">${escapeHtml(`${v.dimension} ${String(v.value)}`)}</span>`)
          .join(' · ');
  return `<td class="entitlements">${values}</td><td class="refreshed" title="${escapeHtml(set.fetchedAt)}">${escapeHtml(readableTime(set.fetchedAt, now))} <span class="muted">${escapeHtml(set.trigger)}</span></td>`;
}

function customerTable(customers: CustomerPage, self: string, hours: { current: string; previous: string }, contracts: boolean, now: number): string {
  if (customers.total === 0) return '<p class="muted" id="no-customers">No customers yet.</p>';
  const rows = customers.rows
    .map(
      (c) =>
        `<tr data-customer="${escapeHtml(c.key)}"><td>${escapeHtml(c.tenantId ?? '—')}</td><td>${escapeHtml(c.licenseId ?? c.customerIdentifier ?? c.productCode)}</td>` +
        `<td>${escapeHtml(c.accountId ?? '—')}</td><td>${escapeHtml(c.status)}</td>${hourCells(c.currentHour)}${hourCells(c.previousHour)}` +
        `${contracts ? entitlementCells(c.entitlements, now) : ''}</tr>`,
    )
    .join('');
  const link = (page: number, label: string) => `<a href="${escapeHtml(`${self}?page=${page}`)}">${label}</a>`;
  const pager =
    customers.pages <= 1
      ? ''
      : `<p class="pager" id="customer-pages">Page ${customers.page} of ${customers.pages} (${customers.total} customers) ${
          customers.page > 1 ? link(customers.page - 1, '← previous') : ''
        }${customers.page < customers.pages ? link(customers.page + 1, 'next →') : ''}</p>`;
  return (
    `<table id="customers"><tr><th rowspan="2">tenant</th><th rowspan="2">license / customer</th><th rowspan="2">account</th><th rowspan="2">status</th>` +
    `<th colspan="3">this hour (${escapeHtml(hours.current)})</th><th colspan="3">last hour (${escapeHtml(hours.previous)})</th>` +
    `${contracts ? '<th rowspan="2">entitlements</th><th rowspan="2">last refresh</th>' : ''}</tr>` +
    '<tr><th class="n">pending</th><th class="n">sent</th><th class="n">failed</th><th class="n">pending</th><th class="n">sent</th><th class="n">failed</th></tr>' +
    `${rows}</table><p class="muted">Units (records) per outcome; failed: rejected, expired, not subscribed or duplicate.</p>${pager}`
  );
}

const hhmm = (iso: string) => `${iso.slice(11, 16)} UTC`;

function card(id: string, label: string, value: string | number, tone = ''): string {
  return `<div class="card ${tone}"><div class="n" id="${id}">${escapeHtml(value)}</div><div class="muted">${escapeHtml(label)}</div></div>`;
}

/** The newest and oldest entitlement refresh: an old oldest one means a customer's set stopped being read. */
function contractsLine(data: StatusPageData, now: number): string {
  const c = data.contracts;
  if (c?.newestRefreshAt === undefined || c.oldestRefreshAt === undefined) return '';
  return (
    `<p>Entitlements refreshed: newest <strong id="newest-refresh" data-at="${escapeHtml(c.newestRefreshAt)}">${escapeHtml(readableTime(c.newestRefreshAt, now))}</strong>, ` +
    `oldest <strong id="oldest-refresh" data-at="${escapeHtml(c.oldestRefreshAt)}">${escapeHtml(readableTime(c.oldestRefreshAt, now))}</strong></p>`
  );
}

export function renderStatusPage(data: StatusPageData, view: PageView): string {
  const headroom = data.windowHeadroomMs;
  const headroomTone = headroom === undefined ? '' : headroom < 3 * 3_600_000 ? 'bad' : headroom < 12 * 3_600_000 ? 'warn' : '';
  const errors =
    data.recentErrors.length === 0
      ? '<p class="muted" id="no-errors">No errors since the app started.</p>'
      : `<table id="errors"><tr><th>time</th><th>code</th><th>AWS</th><th>message</th></tr>${data.recentErrors
          .map((e) => `<tr><td>${escapeHtml(readableTime(e.at, view.now))}</td><td>${escapeHtml(e.code)}</td><td>${escapeHtml(e.awsException ?? '')}</td><td>${escapeHtml(e.message)}</td></tr>`)
          .join('')}</table>`;
  const pendingRows = data.status.pending
    .map((p) => `<tr><td>${escapeHtml(utcMinute(p.hour))}</td><td class="n">${p.records}</td><td class="n">${p.quantity}</td><td>${escapeHtml(readableTime(p.deadline, view.now))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">${view.refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${view.refreshSeconds}">` : ''}<title>meterkit status</title><style>${CSS}</style></head>
<body>
<div class="top"><h1>meterkit status</h1>${view.logout ? `<form method="post" action="${escapeHtml(view.self)}"><input type="hidden" name="logout" value="1"><button type="submit">Log out</button></form>` : ''}</div>
<p class="muted">Generated <span id="generated-at">${escapeHtml(utcMinute(data.generatedAt))}</span>${view.refreshSeconds > 0 ? `, refreshed every ${view.refreshSeconds} s` : ''} · store ${escapeHtml(data.store.kind)}${data.store.durable ? '' : ' (not durable)'} · mode ${escapeHtml(data.mode)}</p>
<p>Last successful send: <strong id="last-send" data-at="${escapeHtml(data.lastSuccessfulSendAt ?? '')}">${escapeHtml(data.lastSuccessfulSendAt === undefined ? 'never' : readableTime(data.lastSuccessfulSendAt, view.now))}</strong> <span class="muted">(the newest record AWS accepted)</span></p>
<div class="cards">
${card('count-pending', 'pending records', data.pending, data.pending > 0 && headroomTone === 'bad' ? 'bad' : '')}
${card('count-sent', 'sent', data.sent)}
${card('count-rejected', 'rejected', data.rejected, data.rejected > 0 ? 'bad' : '')}
${card('count-expired', 'expired', data.expired, data.expired > 0 ? 'bad' : '')}
${card('count-not-subscribed', 'not subscribed', data.notSubscribed, data.notSubscribed > 0 ? 'warn' : '')}
${card('count-duplicate', 'duplicate', data.duplicate, data.duplicate > 0 ? 'bad' : '')}
${card('window-headroom', 'left in AWS’s window (oldest pending hour)', headroom === undefined ? '—' : readableDuration(headroom), headroomTone)}
${data.contracts === undefined ? '' : card('count-contracts', data.contracts.revoked > 0 ? `contract customers (${data.contracts.revoked} revoked)` : 'contract customers', data.contracts.customers)}
</div>
${contractsLine(data, view.now)}
<h2>Units per hour and dimension, last 24 hours (UTC)</h2>
${usageChart(data.usage)}
<h2>Pending hours</h2>
${pendingRows === '' ? '<p class="muted">Nothing pending.</p>' : `<table id="pending"><tr><th>hour</th><th class="n">records</th><th class="n">units</th><th>AWS deadline</th></tr>${pendingRows}</table>`}
<h2>Customers</h2>
${customerTable(data.customers, view.self, { current: hhmm(data.usage[data.usage.length - 1]!.hour), previous: hhmm(data.usage[data.usage.length - 2]!.hour) }, data.contracts !== undefined, view.now)}
<h2>Recent errors</h2>
${errors}
</body></html>
`;
}

/** The login form: the token is posted once and answered with a session cookie; it never appears in a URL. */
export function renderLoginPage(self: string, problem: string | undefined): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>meterkit status: log in</title><style>${LOGIN_CSS}</style></head>
<body><h1>meterkit status</h1>
<form method="post" action="${escapeHtml(self)}" id="login">
<label for="token">Status page token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required minlength="16">
${problem === undefined ? '' : `<p class="problem" id="login-problem">${escapeHtml(problem)}</p>`}<button type="submit">Log in</button>
<p class="muted">Scripts and tools send the token as <code>Authorization: Bearer …</code> or <code>x-meterkit-token</code> instead.</p>
</form></body></html>
`;
}
