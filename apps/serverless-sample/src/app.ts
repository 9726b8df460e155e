import type { Metering } from '@meterkit/core';
import { meterkit } from '@meterkit/express';
import express, { type Express, type Request } from 'express';

export interface ApiConfig {
  readonly metering: Metering;
  /** API key → tenant id. In production, look keys up in your own tenant table. */
  readonly apiKeys: ReadonlyMap<string, string>;
}

function tenantOf(req: Request, apiKeys: ReadonlyMap<string, string>): string | undefined {
  const key = req.get('x-api-key');
  return key === undefined ? undefined : apiKeys.get(key);
}

/**
 * A small metered SaaS API: every call to /v1 is an api_call; exports also bill their rows. The usage of a
 * request is in DynamoDB before its response leaves the function (persistBeforeResponse).
 */
export function buildApi(config: ApiConfig): Express {
  const app = express();
  app.use(express.json());
  const mk = meterkit(config.metering, {
    identify: (req) => tenantOf(req, config.apiKeys),
    manageLifecycle: false,
    persistBeforeResponse: true,
  });
  app.use(mk);
  app.use('/v1', (req, res, next) => {
    if (tenantOf(req, config.apiKeys) === undefined) {
      res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'A valid x-api-key header is required.' } });
      return;
    }
    next();
  });
  app.get('/v1/reports', mk.count('api_calls'), (_req, res) => {
    res.json({ reports: [] });
  });
  app.post('/v1/exports', mk.count('api_calls'), (req, res) => {
    const rows = Number((req.body as { rows?: unknown } | undefined)?.rows);
    if (!Number.isInteger(rows) || rows < 1 || rows > 1_000_000) {
      res.status(400).json({ error: { code: 'BAD_REQUEST', message: 'rows must be an integer from 1 to 1000000.' } });
      return;
    }
    req.meter?.record('rows_exported', rows);
    res.status(201).json({ rows });
  });
  return app;
}
