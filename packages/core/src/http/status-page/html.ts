import { createHash } from 'node:crypto';
import { SWATCH_CSS, usageChart } from './chart';
import type { StatusPageData } from './data';
import { escapeHtml } from './escape';

const CSS =
  'body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#0f172a;background:#f8fafc}' +
  'h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:24px 0 8px}.muted{color:#64748b}' +
  '.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px;min-width:120px}' +
  '.card .n{font-size:24px;font-weight:600}.bad .n{color:#b91c1c}.warn .n{color:#b45309}' +
  'svg{width:100%;max-width:760px;background:#fff;border:1px solid #e2e8f0;border-radius:8px}' +
  '.legend{margin-top:6px}.key{margin-right:12px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}' +
  'table{border-collapse:collapse;background:#fff}td,th{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;font-size:13px}' +
  SWATCH_CSS;

/** The page's only style sheet, allowed by its hash: the CSP needs no 'unsafe-inline'. */
export const CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; ` +
  "img-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function duration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return ms < 0 ? `-${text}` : text;
}

function card(id: string, label: string, value: string | number, tone = ''): string {
  return `<div class="card ${tone}"><div class="n" id="${id}">${escapeHtml(value)}</div><div class="muted">${escapeHtml(label)}</div></div>`;
}

export function renderStatusPage(data: StatusPageData): string {
  const headroom = data.windowHeadroomMs;
  const headroomTone = headroom === undefined ? '' : headroom < 3 * 3_600_000 ? 'bad' : headroom < 12 * 3_600_000 ? 'warn' : '';
  const errors =
    data.recentErrors.length === 0
      ? '<p class="muted" id="no-errors">No errors since the app started.</p>'
      : `<table id="errors"><tr><th>time (UTC)</th><th>code</th><th>AWS</th><th>message</th></tr>${data.recentErrors
          .map((e) => `<tr><td>${escapeHtml(e.at)}</td><td>${escapeHtml(e.code)}</td><td>${escapeHtml(e.awsException ?? '')}</td><td>${escapeHtml(e.message)}</td></tr>`)
          .join('')}</table>`;
  const pendingRows = data.status.pending
    .map((p) => `<tr><td>${escapeHtml(p.hour)}</td><td>${p.records}</td><td>${p.quantity}</td><td>${escapeHtml(p.deadline)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>meterkit status</title><style>${CSS}</style></head>
<body>
<h1>meterkit status</h1>
<p class="muted">Generated <span id="generated-at">${escapeHtml(data.generatedAt)}</span> · store ${escapeHtml(data.store.kind)}${data.store.durable ? '' : ' (not durable)'} · mode ${escapeHtml(data.mode)} · last successful flush <span id="last-flush">${escapeHtml(data.lastSuccessfulFlushAt ?? 'never')}</span></p>
<div class="cards">
${card('count-pending', 'pending records', data.pending, data.pending > 0 && headroomTone === 'bad' ? 'bad' : '')}
${card('count-sent', 'sent', data.sent)}
${card('count-rejected', 'rejected', data.rejected, data.rejected > 0 ? 'bad' : '')}
${card('count-expired', 'expired', data.expired, data.expired > 0 ? 'bad' : '')}
${card('count-not-subscribed', 'not subscribed', data.notSubscribed, data.notSubscribed > 0 ? 'warn' : '')}
${card('count-duplicate', 'duplicate', data.duplicate, data.duplicate > 0 ? 'bad' : '')}
${card('window-headroom', 'left in AWS’s window (oldest pending hour)', headroom === undefined ? '—' : duration(headroom), headroomTone)}
</div>
<h2>Units per hour and dimension, last 24 hours (UTC)</h2>
${usageChart(data.usage)}
<h2>Pending hours</h2>
${pendingRows === '' ? '<p class="muted">Nothing pending.</p>' : `<table id="pending"><tr><th>hour</th><th>records</th><th>units</th><th>AWS deadline</th></tr>${pendingRows}</table>`}
<h2>Recent errors</h2>
${errors}
</body></html>
`;
}

export function renderUnauthorizedPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>401 Unauthorized</title></head><body><h1>401 Unauthorized</h1><p>This page needs the status page token.</p></body></html>\n`;
}
