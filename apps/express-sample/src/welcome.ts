import type { Request, Response } from 'express';
import type { TenantRegistry } from './tenants';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:.2rem .4rem;word-break:break-all}</style></head>
<body>
${body}
</body>
</html>
`;
}

/**
 * GET /welcome?ref=...: shows a new tenant its API key once. The reference is one-time and short-lived, the key never
 * appears in a URL, and the page is neither cached nor sent as a referrer.
 */
export function welcomePage(tenants: TenantRegistry) {
  return (req: Request, res: Response): void => {
    res.set({
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
    const ref = typeof req.query.ref === 'string' ? req.query.ref : '';
    const welcome = tenants.takeWelcome(ref);
    if (welcome === undefined) {
      res
        .status(410)
        .type('html')
        .send(page('Link expired', '<h1>This link has expired</h1><p>It can be opened once, within 10 minutes. Choose "Set up your account" in AWS Marketplace again to get a new API key.</p>'));
      return;
    }
    res
      .type('html')
      .send(
        page(
          'Welcome',
          `<h1>Welcome, ${escapeHtml(welcome.tenant.name)}</h1>
<p>Your subscription is active. Here is your API key; it is shown only once, so store it now:</p>
<p><code id="api-key">${escapeHtml(welcome.apiKey)}</code></p>
<p>Send it as <code>Authorization: Bearer &lt;key&gt;</code> or <code>x-api-key: &lt;key&gt;</code>.</p>`,
        ),
      );
  };
}
