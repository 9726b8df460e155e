import type { MeterkitMiddleware } from '@meterkit/express';
import express, { Router, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { requireTenant } from './auth';
import { INCLUDED_API_CALLS, SEATS } from './products';

export { DIMENSIONS } from './products';

const REPORTS = [
  { id: 'daily-active-users', title: 'Daily active users', rows: 1_200 },
  { id: 'revenue-by-region', title: 'Revenue by region', rows: 48 },
  { id: 'churn-cohorts', title: 'Churn cohorts', rows: 9_600 },
];

/** The public catalog is free; for authenticated callers it counts as an API call. */
function catalog(_req: Request, res: Response): void {
  res.json({ reports: REPORTS.map(({ id, title }) => ({ id, title })) });
}

export interface ApiOptions {
  /** Serve `GET /v1/team`, for buyers whose contract includes seats (a contract product is sold). Default false. */
  readonly team?: boolean;
}

/**
 * The paid API: every call is an `api_calls` unit; exports also bill the rows they produce (`rows_exported`).
 * Contract buyers' `api_calls` are billed only above their contract's monthly quota (src/products.ts).
 */
export function apiRouter(mk: MeterkitMiddleware, options: ApiOptions = {}): Router {
  const router = Router();
  router.get('/catalog', mk.count('api_calls'), catalog);

  router.use(requireTenant);
  router.get('/reports', mk.count('api_calls'), (_req, res) => {
    res.json({ reports: REPORTS });
  });
  router.get('/reports/:id', mk.count('api_calls'), (req, res) => {
    const report = REPORTS.find((r) => r.id === req.params.id);
    if (report === undefined) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such report.' } });
      return;
    }
    res.json(report);
  });
  // A 403 from the check bills nothing: mk.count() bills responses below 400.
  if (options.team === true) router.get('/team', mk.count('api_calls'), mk.requireEntitlement(SEATS), team);
  router.post('/exports', mk.count('api_calls'), express.json({ limit: '4kb' }), (req, res) => {
    const { report: reportId, limit } = (req.body ?? {}) as { report?: unknown; limit?: unknown };
    const report = REPORTS.find((r) => r.id === reportId);
    if (report === undefined || (limit !== undefined && (!Number.isSafeInteger(limit) || (limit as number) < 1))) {
      res.status(400).json({ error: { code: 'INVALID_EXPORT', message: 'Send { "report": "<report id>", "limit"?: <positive integer> }.' } });
      return;
    }
    const rows = Math.min(report.rows, (limit as number | undefined) ?? report.rows);
    req.meter?.record('rows_exported', rows);
    res.status(201).json({ exportId: randomUUID(), report: report.id, rows });
  });
  return router;
}

/** Contract buyers: their seats and this month's API calls against the quota their contract includes. */
function team(req: Request, res: Response): void {
  const seats = req.meter!.entitlement(SEATS);
  const calls = req.meter!.entitlement(INCLUDED_API_CALLS);
  res.json({
    seats: seats.value,
    ...(seats.expiresAt === undefined ? {} : { contractEndsAt: new Date(seats.expiresAt).toISOString() }),
    apiCalls: { includedPerMonth: calls.value ?? 0, usedThisMonth: calls.used ?? 0, withinQuota: calls.within },
  });
}
